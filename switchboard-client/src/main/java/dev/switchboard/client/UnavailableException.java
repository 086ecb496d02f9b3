package dev.switchboard.client;

/**
 * The server cannot do it now ({@code unavailable}, or {@code timeout}: no answer in time, and the change may have been stored);
 * retrying later may work. A publish retried with the same idempotency key stores its message once.
 */
public class UnavailableException extends SwitchboardException {
    public UnavailableException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
