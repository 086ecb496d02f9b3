package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;

/**
 * What every engine refuses before storing an append, so that all engines refuse the same input with the same codes.
 * Topics whose names start with {@code _} belong to the server (a job's events): clients may read them, not write.
 */
public final class AppendRules {
    public static final int MAX_TYPE_LENGTH = 255;

    private final int maxMessageBytes;
    private final int maxIdempotencyKeyLength;

    public AppendRules(int maxMessageBytes, int maxIdempotencyKeyLength) {
        this.maxMessageBytes = maxMessageBytes;
        this.maxIdempotencyKeyLength = maxIdempotencyKeyLength;
    }

    /** @throws ApiException when the append must be refused */
    public void check(String topic, String type, byte[] payload, String idempotencyKey) {
        writableTopic(topic);
        if (payload.length > maxMessageBytes) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "message is " + payload.length
                    + " bytes; the limit is " + maxMessageBytes);
        }
        if (type.length() > MAX_TYPE_LENGTH) {
            throw new ApiException(ErrorCode.INVALID_TYPE, "content type is longer than " + MAX_TYPE_LENGTH + " chars");
        }
        if (idempotencyKey != null && (idempotencyKey.isEmpty()
                || idempotencyKey.length() > maxIdempotencyKeyLength)) {
            throw new ApiException(ErrorCode.INVALID_IDEMPOTENCY_KEY,
                    "Idempotency-Key must be 1-" + maxIdempotencyKeyLength + " chars");
        }
    }

    /** A valid topic name that clients may write to (append, set retention, delete). */
    public static void writableTopic(String topic) {
        TopicNames.validate(topic);
        if (topic.startsWith("_")) {
            throw new ApiException(ErrorCode.RESERVED_TOPIC,
                    "topics starting with '_' are kept by the server (job events); they can be read, not written");
        }
    }
}
