package dev.switchboard.jobs;

import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.Payloads;
import dev.switchboard.wire.TopicNames;
import java.time.Duration;

/**
 * The input rules of jobs. Each check throws {@link ApiException} with its {@link ErrorCode} before anything is
 * staged, so a refused request changes nothing. It holds only the limits, so any thread may call it.
 */
final class JobRules {
    private static final Duration MIN_LEASE = Duration.ofSeconds(1);
    private static final Duration MAX_LEASE = Duration.ofHours(24);
    private static final Duration MIN_RESULT_TTL = Duration.ofSeconds(1);
    private static final Duration MAX_RESULT_TTL = Duration.ofDays(365);
    private static final int MAX_ATTEMPTS = 100;
    /** Most jobs one claim takes: a worker's batch, not a way to drain a queue into one answer. */
    static final int MAX_CLAIM = 100;
    private static final int MAX_TYPE = 255;
    private static final int MAX_PROGRESS_MESSAGE = 1024;
    private static final int MAX_ERROR = 4096;

    private final Limits limits;

    JobRules(Limits limits) {
        this.limits = limits;
    }

    void checkQueue(String queue) {
        TopicNames.validate(queue);
    }

    void checkSubmit(String queue, String type, byte[] payload, String key) {
        checkQueue(queue);
        checkSize(payload);
        if (type.length() > MAX_TYPE) {
            throw new ApiException(ErrorCode.INVALID_TYPE, "content type is longer than " + MAX_TYPE + " chars");
        }
        if (Payloads.isJsonType(type)) {
            Payloads.requireJson(payload); // embedded verbatim in the claim's JSON
        }
        if (key != null && (key.isEmpty() || key.length() > limits.maxIdempotencyKeyLength())) {
            throw new ApiException(ErrorCode.INVALID_IDEMPOTENCY_KEY,
                    "Idempotency-Key must be 1-" + limits.maxIdempotencyKeyLength() + " chars");
        }
    }

    /** A {@code wait=} no longer than the server's limit. */
    void checkWait(Duration wait) {
        if (wait.compareTo(limits.maxWait()) > 0) {
            throw new ApiException(ErrorCode.INVALID_DURATION, "wait must be at most " + Durations.format(limits.maxWait()));
        }
    }

    /** {@code lease} may be null: the claim takes the queue's. */
    void checkClaim(String queue, int max, Duration wait, Duration lease) {
        checkQueue(queue);
        if (max < 1 || max > MAX_CLAIM) {
            throw new ApiException(ErrorCode.INVALID_QUERY, "max must be 1-" + MAX_CLAIM);
        }
        checkWait(wait);
        if (lease != null && !leaseInRange(lease)) {
            throw new ApiException(ErrorCode.INVALID_DURATION, "lease must be between 1s and 24h");
        }
    }

    void checkProgress(Integer percent, String message) {
        if (percent != null && (percent < 0 || percent > 100)) {
            throw new ApiException(ErrorCode.INVALID_PROGRESS, "percent must be 0-100");
        }
        if (message != null && message.length() > MAX_PROGRESS_MESSAGE) {
            throw new ApiException(ErrorCode.INVALID_PROGRESS, "message is longer than " + MAX_PROGRESS_MESSAGE);
        }
    }

    void checkResult(String type, byte[] result) {
        checkSize(result);
        if (Payloads.isJsonType(type)) {
            Payloads.requireJson(result);
        }
    }

    /** The error a failure records: {@code failed} when none is given. */
    String failReason(String error) {
        String reason = error == null || error.isBlank() ? "failed" : error;
        if (reason.length() > MAX_ERROR) {
            throw new ApiException(ErrorCode.INVALID_ERROR, "error is longer than " + MAX_ERROR + " chars");
        }
        return reason;
    }

    void checkSettings(String queue, QueueSettings settings) {
        checkQueue(queue);
        if (settings.maxAttempts() < 1 || settings.maxAttempts() > MAX_ATTEMPTS) {
            throw new ApiException(ErrorCode.INVALID_QUEUE, "maxAttempts must be 1-" + MAX_ATTEMPTS);
        }
        if (!leaseInRange(settings.lease())) {
            throw new ApiException(ErrorCode.INVALID_QUEUE, "lease must be between 1s and 24h");
        }
        if (settings.resultTtl().compareTo(MIN_RESULT_TTL) < 0 || settings.resultTtl().compareTo(MAX_RESULT_TTL) > 0) {
            throw new ApiException(ErrorCode.INVALID_QUEUE, "resultTtl must be between 1s and 365d");
        }
    }

    /** Checked on the writer thread, first of the lease checks, so it keeps its place before the job's state. */
    void checkLeaseToken(String token) {
        if (token == null || token.isBlank()) {
            throw new ApiException(ErrorCode.MISSING_LEASE_TOKEN, "the Lease-Token header is required");
        }
    }

    private void checkSize(byte[] bytes) {
        if (bytes.length > limits.maxMessageBytes()) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE,
                    "body is " + bytes.length + " bytes; the limit is " + limits.maxMessageBytes());
        }
    }

    private static boolean leaseInRange(Duration lease) {
        return lease.compareTo(MIN_LEASE) >= 0 && lease.compareTo(MAX_LEASE) <= 0;
    }
}
