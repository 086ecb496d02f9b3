package dev.switchboard.client;

/** Thrown by a {@link JobHandler} to fail its job with a message, saying whether the job may be tried again. */
public class JobFailure extends Exception {
    private final boolean retry;

    public JobFailure(String message, boolean retry) {
        super(message);
        this.retry = retry;
    }

    /** Whether the job goes back to the queue (while it has attempts left). */
    public boolean retry() {
        return retry;
    }
}
