package dev.switchboard.client;

/** A size or count limit of the server ({@code payload_too_large}, {@code limit_exceeded}). */
public class LimitExceededException extends SwitchboardException {
    public LimitExceededException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }
}
