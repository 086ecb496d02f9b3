package dev.switchboard.client;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One message of a topic: its offset, its payload's bytes, its headers and, where the transport carries them, its
 * content type and time. A JSON payload is its JSON text; a binary payload its bytes (decoded from base64).
 * Immutable; {@link #data()} returns a copy.
 */
public final class Message {
    private final String topic;
    private final long offset;
    private final String time;
    private final String type;
    private final byte[] data;
    private final Map<String, List<String>> headers;

    /** A message without headers; {@code time} and {@code type} may be null (a transport that carries neither). */
    public Message(String topic, long offset, String time, String type, byte[] data) {
        this(topic, offset, time, type, data, Map.of());
    }

    /** @param headers name → values, in the order the server sent them; empty for none */
    public Message(String topic, long offset, String time, String type, byte[] data,
                   Map<String, List<String>> headers) {
        this.topic = topic;
        this.offset = offset;
        this.time = time;
        this.type = type;
        this.data = data.clone();
        Map<String, List<String>> copy = new LinkedHashMap<>();
        headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
        this.headers = Collections.unmodifiableMap(copy);
    }

    public String topic() {
        return topic;
    }

    /** Its place in the topic: offsets start at 1 and have no holes. */
    public long offset() {
        return offset;
    }

    /** When it was stored, as the API writes times ({@code 2026-11-23T14:00:00.123Z}). */
    public String time() {
        return time;
    }

    /** Its content type. */
    public String type() {
        return type;
    }

    /**
     * Its headers (docs/api.md, "Message envelope"), name → values in the order published, unmodifiable; empty when
     * it has none. Names are as published: a publish over HTTP/2 lowercases them.
     */
    public Map<String, List<String>> headers() {
        return headers;
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
