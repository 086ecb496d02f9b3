package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.HeaderRules;
import dev.switchboard.wire.TopicNames;
import java.util.List;
import java.util.Map;

/**
 * What every engine refuses before storing an append, so that all engines refuse the same input with the same codes.
 * Topics whose names start with {@code _} belong to the server (a job's events): clients may read them, not write.
 */
public final class AppendRules {
    public static final int MAX_TYPE_LENGTH = 255;

    private final int maxMessageBytes;
    private final int maxBatchMessages;
    private final int maxIdempotencyKeyLength;

    public AppendRules(int maxMessageBytes, int maxBatchMessages, int maxIdempotencyKeyLength) {
        this.maxMessageBytes = maxMessageBytes;
        this.maxBatchMessages = maxBatchMessages;
        this.maxIdempotencyKeyLength = maxIdempotencyKeyLength;
    }

    /** @throws ApiException when the append must be refused */
    public void check(String topic, String type, byte[] payload, String idempotencyKey) {
        check(topic, type, payload, MessageHeaders.NONE, idempotencyKey);
    }

    /**
     * @throws ApiException when the append must be refused; headers follow {@link HeaderRules} and count against the
     *                      size limit
     */
    public void check(String topic, String type, byte[] payload, Map<String, List<String>> headers,
                      String idempotencyKey) {
        writableTopic(topic);
        HeaderRules.validate(headers);
        int size = payload.length + MessageHeaders.size(headers);
        if (size > maxMessageBytes) {
            throw tooLarge("message", size);
        }
        checkTypeAndKey(type, idempotencyKey);
    }

    /**
     * A batch is refused whole: no message (named {@code invalid_json}, as the HTTP body that holds none), more than
     * the limit, or any message an append would refuse; {@code headers} are every message's.
     *
     * @throws ApiException when the batch must be refused
     */
    public void checkBatch(String topic, String type, List<byte[]> payloads, Map<String, List<String>> headers,
                           String idempotencyKey) {
        writableTopic(topic);
        HeaderRules.validate(headers);
        if (payloads.isEmpty()) {
            throw new ApiException(ErrorCode.INVALID_JSON, "the batch holds no message; send at least one");
        }
        if (payloads.size() > maxBatchMessages) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "the batch holds " + payloads.size()
                    + " messages; the limit is " + maxBatchMessages);
        }
        int headerBytes = MessageHeaders.size(headers);
        for (int i = 0; i < payloads.size(); i++) {
            if (payloads.get(i).length + headerBytes > maxMessageBytes) {
                throw tooLarge("message " + i + " of the batch", payloads.get(i).length + headerBytes);
            }
        }
        checkTypeAndKey(type, idempotencyKey);
    }

    private ApiException tooLarge(String what, int bytes) {
        return new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, what + " is " + bytes + " bytes; the limit is "
                + maxMessageBytes);
    }

    private void checkTypeAndKey(String type, String idempotencyKey) {
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
