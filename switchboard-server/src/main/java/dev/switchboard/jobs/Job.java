package dev.switchboard.jobs;

import java.util.ArrayList;
import java.util.List;

/**
 * One job's state; immutable, replaced on every change. {@code version} is the offset of the job's latest event on
 * its topic ({@link JobService#topicOf}), so "any change" and "a new event" are the same thing.
 *
 * @param inlineResult the result when it is at most {@link JobService#INLINE_RESULT_BYTES} (else read it from the
 *                     store); null until the job succeeds
 * @param leaseToken   the current claim's fencing token (running jobs only)
 * @param seq          submission order within the server, for FIFO claiming
 * @param unwritten    the job's events not yet written to its topic, oldest first (docs/architecture.md, "Jobs
 *                     without a stored topic"); null once the topic holds them all
 */
public record Job(String id, String queue, JobStatus status, int attempt, Integer percent, String progressMessage,
                  long version, long created, long updated, String payloadType, long payloadBytes,
                  String resultType, long resultBytes, byte[] inlineResult, String error, String leaseToken,
                  long leaseExpires, long leaseMillis, long seq, String idempotencyKey,
                  List<JobEvent> unwritten) {

    Job withStatus(JobStatus newStatus, long now) {
        return new Job(id, queue, newStatus, attempt, percent, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, resultType, resultBytes, inlineResult, error,
                newStatus == JobStatus.RUNNING ? leaseToken : null, newStatus == JobStatus.RUNNING ? leaseExpires : 0,
                leaseMillis, seq, idempotencyKey, unwritten);
    }

    Job claimed(String token, long now, long lease) {
        return new Job(id, queue, JobStatus.RUNNING, attempt, percent, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, resultType, resultBytes, inlineResult, error, token, now + lease, lease,
                seq, idempotencyKey, unwritten);
    }

    Job requeued(String reason, long now) {
        return new Job(id, queue, JobStatus.QUEUED, attempt + 1, null, null, version + 1, created, now, payloadType,
                payloadBytes, null, 0, null, reason, null, 0, 0, seq, idempotencyKey, unwritten);
    }

    Job failed(String reason, long now) {
        return new Job(id, queue, JobStatus.FAILED, attempt, percent, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, null, 0, null, reason, null, 0, 0, seq, idempotencyKey, unwritten);
    }

    Job progressed(Integer newPercent, String message, long now) {
        return new Job(id, queue, status, attempt, newPercent, message, version + 1, created, now, payloadType,
                payloadBytes, resultType, resultBytes, inlineResult, error, leaseToken, leaseExpires, leaseMillis,
                seq, idempotencyKey, unwritten);
    }

    Job succeeded(String type, long bytes, byte[] inline, long now) {
        return new Job(id, queue, JobStatus.SUCCEEDED, attempt, 100, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, type, bytes, inline, null, null, 0, 0, seq, idempotencyKey, unwritten);
    }

    /** A heartbeat: a longer lease is not a visible change, so the version stays. */
    Job leaseExtended(long now) {
        return new Job(id, queue, status, attempt, percent, progressMessage, version, created, updated, payloadType,
                payloadBytes, resultType, resultBytes, inlineResult, error, leaseToken, now + leaseMillis,
                leaseMillis, seq, idempotencyKey, unwritten);
    }

    /** With its new event kept in its record: the job's topic is not written yet. */
    Job withUnwritten(JobEvent event) {
        List<JobEvent> events = new ArrayList<>(unwritten);
        events.add(event);
        return withEvents(List.copyOf(events));
    }

    /** Its topic written: its events are read from there from now on. */
    Job written() {
        return withEvents(null);
    }

    private Job withEvents(List<JobEvent> events) {
        return new Job(id, queue, status, attempt, percent, progressMessage, version, created, updated, payloadType,
                payloadBytes, resultType, resultBytes, inlineResult, error, leaseToken, leaseExpires, leaseMillis,
                seq, idempotencyKey, events);
    }
}
