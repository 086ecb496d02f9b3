package dev.switchboard.jobs;

/**
 * One job's state; immutable, replaced on every change. {@code version} is the offset of the job's latest event on
 * its topic ({@link JobService#topicOf}), so "any change" and "a new event" are the same thing.
 *
 * @param inlineResult the result when it is at most {@link JobService#INLINE_RESULT_BYTES} (else read it from the
 *                     store); null until the job succeeds
 * @param leaseToken   the current claim's fencing token (running jobs only)
 * @param seq          submission order within the server, for FIFO claiming
 */
public record Job(String id, String queue, JobStatus status, int attempt, Integer percent, String progressMessage,
                  long version, long created, long updated, String payloadType, long payloadBytes,
                  String resultType, long resultBytes, byte[] inlineResult, String error, String leaseToken,
                  long leaseExpires, long leaseMillis, long seq, String idempotencyKey) {

    Job withStatus(JobStatus newStatus, long now) {
        return new Job(id, queue, newStatus, attempt, percent, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, resultType, resultBytes, inlineResult, error,
                newStatus == JobStatus.RUNNING ? leaseToken : null, newStatus == JobStatus.RUNNING ? leaseExpires : 0,
                leaseMillis, seq, idempotencyKey);
    }

    Job claimed(String token, long now, long lease) {
        return new Job(id, queue, JobStatus.RUNNING, attempt, percent, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, resultType, resultBytes, inlineResult, error, token, now + lease, lease,
                seq, idempotencyKey);
    }

    Job requeued(String reason, long now) {
        return new Job(id, queue, JobStatus.QUEUED, attempt + 1, null, null, version + 1, created, now, payloadType,
                payloadBytes, null, 0, null, reason, null, 0, 0, seq, idempotencyKey);
    }

    Job failed(String reason, long now) {
        return new Job(id, queue, JobStatus.FAILED, attempt, percent, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, null, 0, null, reason, null, 0, 0, seq, idempotencyKey);
    }

    Job progressed(Integer newPercent, String message, long now) {
        return new Job(id, queue, status, attempt, newPercent, message, version + 1, created, now, payloadType,
                payloadBytes, resultType, resultBytes, inlineResult, error, leaseToken, leaseExpires, leaseMillis,
                seq, idempotencyKey);
    }

    Job succeeded(String type, long bytes, byte[] inline, long now) {
        return new Job(id, queue, JobStatus.SUCCEEDED, attempt, 100, progressMessage, version + 1, created, now,
                payloadType, payloadBytes, type, bytes, inline, null, null, 0, 0, seq, idempotencyKey);
    }

    /** A heartbeat: a longer lease is not a visible change, so the version stays. */
    Job leaseExtended(long now) {
        return new Job(id, queue, status, attempt, percent, progressMessage, version, created, updated, payloadType,
                payloadBytes, resultType, resultBytes, inlineResult, error, leaseToken, now + leaseMillis,
                leaseMillis, seq, idempotencyKey);
    }
}
