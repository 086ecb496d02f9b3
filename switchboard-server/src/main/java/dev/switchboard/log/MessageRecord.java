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
        if (headers.isEmpty()) {
            return ByteBuffer.allocate(10 + typeBytes.length + payload.length)
                    .putLong(time).putShort((short) typeBytes.length).put(typeBytes).put(payload).array();
        }
        byte[] h = MessageHeaders.encode(headers);
        return ByteBuffer.allocate(14 + typeBytes.length + h.length + payload.length).putLong(time)
                .putShort((short) (typeBytes.length | HAS_HEADERS)).put(typeBytes).putInt(h.length).put(h).put(payload)
                .array();
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
