package dev.switchboard.client;

/** {@link Switchboard#call} of a job that failed or was cancelled; {@link #job()} tells why. */
public class JobFailedException extends SwitchboardException {
    private final transient Job job;

    public JobFailedException(Job job) {
        super(null, 0, "job " + job.id() + " " + job.status().wire() + (job.error() == null ? "" : ": " + job.error()), null);
        this.job = job;
    }

    public Job job() {
        return job;
    }
}
