package dev.switchboard.client;

/** The request is well formed but the job is not in a state that allows it ({@code job_finished}, {@code job_not_succeeded}, {@code lease_lost}, {@code lease_expired}). */
public class ConflictException extends SwitchboardException {
    public ConflictException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }
}
