package dev.switchboard.client;

/**
 * The server does not let this caller do this: no valid token ({@code unauthorized}, {@code token_expired}), a token
 * whose rights do not cover it ({@code forbidden}), or a page origin or host name it does not answer to
 * ({@code origin_not_allowed}, {@code host_not_allowed}). Retrying the same call with the same token cannot succeed;
 * a streaming subscription whose token expires reconnects by itself, asking the token supplier again.
 */
public class NotAuthorizedException extends SwitchboardException {
    public NotAuthorizedException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }
}
