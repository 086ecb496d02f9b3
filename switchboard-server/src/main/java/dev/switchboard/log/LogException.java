package dev.switchboard.log;

/** The store failed (disk full, corruption, I/O error). Publishes it affects are answered 503 and not acknowledged. */
public final class LogException extends RuntimeException {
    public LogException(String message, Throwable cause) {
        super(message, cause);
    }
}
