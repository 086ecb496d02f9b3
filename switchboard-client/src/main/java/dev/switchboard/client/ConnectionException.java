package dev.switchboard.client;

/**
 * No server could be reached, or the connection was lost before the answer came. It has no API error code. Whether a
 * lost request took effect is unknown: retry a publish or submit with an idempotency key.
 */
public class ConnectionException extends SwitchboardException {
    public ConnectionException(String message, Throwable cause) {
        super(null, 0, message, cause);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
