package dev.switchboard.client;

/** What the request names does not exist ({@code not_found}, {@code topic_not_found}, {@code job_not_found}, {@code queue_not_found}, {@code not_subscribed}, {@code topic_deleted}). */
public class NotFoundException extends SwitchboardException {
    public NotFoundException(String wireCode, int status, String message) {
        super(wireCode, status, message, null);
    }
}
