package dev.switchboard.client;

import java.nio.charset.StandardCharsets;

/**
 * One message of a topic: its offset, its payload's bytes and, where the transport carries them, its content type and
 * time. A JSON payload is its JSON text; a binary payload its bytes (decoded from base64). Immutable; {@link #data()}
 * returns a copy.
 */
public final class Message {
    private final String topic;
    private final long offset;
    private final String time;
    private final String type;
    private final byte[] data;

    /** @param time and {@code type} may be null: server-sent events carry neither */
    public Message(String topic, long offset, String time, String type, byte[] data) {
        this.topic = topic;
        this.offset = offset;
        this.time = time;
        this.type = type;
        this.data = data.clone();
    }

    public String topic() {
        return topic;
    }

    /** Its place in the topic: offsets start at 1 and have no holes. */
    public long offset() {
        return offset;
    }

    /** When it was stored, as the API writes times ({@code 2026-11-23T14:00:00.123Z}); null over SSE. */
    public String time() {
        return time;
    }

    /** Its content type; null over SSE, which does not carry it. */
    public String type() {
        return type;
    }

    /** The payload's bytes (a copy). */
    public byte[] data() {
        return data.clone();
    }

    /** The payload as UTF-8 text. */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return topic + "@" + offset;
    }
}
