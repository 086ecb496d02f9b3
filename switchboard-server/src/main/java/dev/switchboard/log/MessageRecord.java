package dev.switchboard.log;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.List;

/**
 * The stored form of a message. Key: topic id (8 bytes) + offset (8 bytes), big-endian so the store's byte order is
 * offset order. Value: time ms (8) + type length (2) + type (UTF-8) + payload. A message with headers sets the type
 * length's top bit (types are at most 255 bytes, so records written before headers existed never have it) and puts
 * the headers' length (4) and bytes ({@link MessageHeaders}) between the type and the payload.
 */
final class MessageRecord {
    static final int KEY_BYTES = 16;

    private MessageRecord() {}

    static byte[] key(long topicId, long offset) {
        return ByteBuffer.allocate(KEY_BYTES).putLong(topicId).putLong(offset).array();
    }

    static byte[] prefix(long topicId) {
        return ByteBuffer.allocate(8).putLong(topicId).array();
    }

    static long offsetOf(byte[] key) {
        return ByteBuffer.wrap(key, 8, 8).getLong();
    }

    static long topicOf(byte[] key) {
        return ByteBuffer.wrap(key, 0, 8).getLong();
    }

    private static final int HAS_HEADERS = 0x8000;

    static byte[] value(long time, String type, byte[] payload, Map<String, List<String>> headers) {
        byte[] typeBytes = type.getBytes(StandardCharsets.UTF_8);
        byte[] h = headers.isEmpty() ? null : MessageHeaders.encode(headers);
        ByteBuffer value = ByteBuffer.allocate(valueLength(typeBytes, h, payload));
        writeValue(value, time, typeBytes, h, payload);
        return value.array();
    }

    private static int valueLength(byte[] typeBytes, byte[] headers, byte[] payload) {
        return (headers == null ? 10 : 14 + headers.length) + typeBytes.length + payload.length;
    }

    /** {@code headers}: their encoded bytes, or null for none. */
    private static void writeValue(ByteBuffer into, long time, byte[] typeBytes, byte[] headers, byte[] payload) {
        into.putLong(time);
        if (headers == null) {
            into.putShort((short) typeBytes.length).put(typeBytes);
        } else {
            into.putShort((short) (typeBytes.length | HAS_HEADERS)).put(typeBytes).putInt(headers.length).put(headers);
        }
        into.put(payload);
    }

    /**
     * Encodes keys and values into direct buffers it reuses, which RocksDB reads in place: the log writer stores a
     * message without a key and a value array per message, nor the JNI copy of each. One per writing thread.
     */
    static final class Encoder {
        /** Larger values (rare: most messages are small) take the array path rather than pinning a big buffer. */
        private static final int DIRECT_VALUE_BYTES = 8192;
        private final ByteBuffer key = ByteBuffer.allocateDirect(KEY_BYTES);
        private final ByteBuffer value = ByteBuffer.allocateDirect(DIRECT_VALUE_BYTES);
        /** The last type encoded: a topic's messages mostly share one. */
        private String type = "";
        private byte[] typeBytes = new byte[0];

        ByteBuffer key(long topicId, long offset) {
            return key.clear().putLong(topicId).putLong(offset).flip();
        }

        /** The value in the reused buffer; null when it does not fit there (then {@link MessageRecord#value}). */
        ByteBuffer directValue(long time, String type, byte[] payload, Map<String, List<String>> headers) {
            if (!type.equals(this.type)) {
                this.typeBytes = type.getBytes(StandardCharsets.UTF_8);
                this.type = type;
            }
            byte[] h = headers.isEmpty() ? null : MessageHeaders.encode(headers);
            if (valueLength(typeBytes, h, payload) > DIRECT_VALUE_BYTES) {
                return null;
            }
            value.clear();
            writeValue(value, time, typeBytes, h, payload);
            return value.flip();
        }
    }

    static long timeOf(byte[] value) {
        return ByteBuffer.wrap(value, 0, 8).getLong();
    }

    /** Where the payload starts. */
    private static int payloadStart(byte[] value) {
        int typeField = ByteBuffer.wrap(value, 8, 2).getShort() & 0xffff;
        int typeLength = typeField & ~HAS_HEADERS;
        if ((typeField & HAS_HEADERS) == 0) {
            return 10 + typeLength;
        }
        return 14 + typeLength + ByteBuffer.wrap(value, 10 + typeLength, 4).getInt();
    }

    static int payloadLength(byte[] value) {
        return value.length - payloadStart(value);
    }

    static Message decode(String topic, long offset, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        long time = b.getLong();
        int typeField = b.getShort() & 0xffff;
        int typeLength = typeField & ~HAS_HEADERS;
        String type = new String(value, 10, typeLength, StandardCharsets.UTF_8);
        Map<String, List<String>> headers = MessageHeaders.NONE;
        if ((typeField & HAS_HEADERS) != 0) {
            int headerLength = ByteBuffer.wrap(value, 10 + typeLength, 4).getInt();
            headers = MessageHeaders.decode(value, 14 + typeLength, headerLength);
        }
        int start = payloadStart(value);
        byte[] payload = new byte[value.length - start];
        System.arraycopy(value, start, payload, 0, payload.length);
        return new Message(topic, offset, time, type, payload, headers);
    }
}
