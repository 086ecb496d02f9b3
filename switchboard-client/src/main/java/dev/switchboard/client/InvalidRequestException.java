package dev.switchboard.client;

/** The request is malformed or not allowed ({@code invalid_*}, {@code missing_lease_token}, {@code reserved_topic}, {@code method_not_allowed}): sending it again cannot help. */
public class InvalidRequestException extends SwitchboardException {
    public InvalidRequestException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }
}
