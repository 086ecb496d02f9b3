package dev.switchboard.log;

import dev.switchboard.broker.Message;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The stored form of a message. Key: topic id (8 bytes) + offset (8 bytes), big-endian so the store's byte order is
 * offset order. Value: time ms (8) + type length (2) + type (UTF-8) + payload.
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

    static byte[] value(long time, String type, byte[] payload) {
        byte[] typeBytes = type.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(10 + typeBytes.length + payload.length)
                .putLong(time).putShort((short) typeBytes.length).put(typeBytes).put(payload).array();
    }

    static long timeOf(byte[] value) {
        return ByteBuffer.wrap(value, 0, 8).getLong();
    }

    static int payloadLength(byte[] value) {
        int typeLength = ByteBuffer.wrap(value, 8, 2).getShort() & 0xffff;
        return value.length - 10 - typeLength;
    }

    static Message decode(String topic, long offset, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        long time = b.getLong();
        int typeLength = b.getShort() & 0xffff;
        String type = new String(value, 10, typeLength, StandardCharsets.UTF_8);
        byte[] payload = new byte[value.length - 10 - typeLength];
        System.arraycopy(value, 10 + typeLength, payload, 0, payload.length);
        return new Message(topic, offset, time, type, payload);
    }
}
