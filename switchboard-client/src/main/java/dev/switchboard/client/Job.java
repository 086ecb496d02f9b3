package dev.switchboard.client;

/**
 * A job as the server last described it (docs/api.md, "Job JSON"): immutable, so ask its {@link JobHandle} for a fresh
 * one. {@link #result()} holds the result's bytes once it succeeded (results over 64 KiB are fetched by
 * {@link JobHandle#result()} and {@link Switchboard#call}).
 *
 * @param progressPercent 0-100, or -1 when no progress was reported
 * @param progressMessage null when none was reported
 * @param version the offset of the job's latest event: it grows with every visible change
 * @param error why it failed, or why its last attempt was requeued; null otherwise
 * @param resultType null unless it succeeded
 * @param resultBytes the result's size, 0 unless it succeeded
 * @param result the result's bytes, null unless it succeeded and they are known
 * @param created when it was submitted, as the API writes times
 * @param updated when it last changed
 */
public record Job(String id, String queue, JobStatus status, int attempt, int progressPercent,
                  String progressMessage, long version, String error, String resultType, long resultBytes,
                  byte[] result, String created, String updated) {

    public boolean finished() {
        return status.finished();
    }

    /** The result as UTF-8 text; null when there is none. */
    public String resultText() {
        return result == null ? null : new String(result, java.nio.charset.StandardCharsets.UTF_8);
    }
}
