package dev.switchboard.client;

/** {@link Switchboard#call} of a job that did not finish in time; it may still finish: follow it by {@link #job()}. */
public class JobTimeoutException extends SwitchboardException {
    private final transient Job job;

    public JobTimeoutException(Job job) {
        super(null, 0, "job " + job.id() + " is still " + job.status().wire(), null);
        this.job = job;
    }

    public Job job() {
        return job;
    }

    @Override
    public boolean retryable() {
        return true;
    }
}
