package dev.switchboard.broker;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A message's headers (name → values, in the order given; NATS HPUB's headers) and the one binary form every engine
 * stores them in: a count of pairs, then per pair the name's length (2 bytes) and UTF-8 bytes and the value's length
 * (4 bytes) and UTF-8 bytes. No headers is the empty map, stored as nothing at all.
 */
public final class MessageHeaders {
    public static final Map<String, List<String>> NONE = Map.of();

    private MessageHeaders() {}

    public static byte[] encode(Map<String, List<String>> headers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pairs = 0;
        for (List<String> values : headers.values()) {
            pairs += values.size();
        }
        ByteBuffer head = ByteBuffer.allocate(4).putInt(pairs);
        out.writeBytes(head.array());
        headers.forEach((name, values) -> {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            for (String value : values) {
                byte[] v = value.getBytes(StandardCharsets.UTF_8);
                out.writeBytes(ByteBuffer.allocate(2).putShort((short) n.length).array());
                out.writeBytes(n);
                out.writeBytes(ByteBuffer.allocate(4).putInt(v.length).array());
                out.writeBytes(v);
            }
        });
        return out.toByteArray();
    }

    /** Reads what {@link #encode} wrote, from {@code length} bytes at {@code offset}. */
    public static Map<String, List<String>> decode(byte[] bytes, int offset, int length) {
        if (length == 0) {
            return NONE;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, offset, length);
        int pairs = b.getInt();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; i < pairs; i++) {
            byte[] n = new byte[b.getShort() & 0xffff];
            b.get(n);
            byte[] v = new byte[b.getInt()];
            b.get(v);
            headers.computeIfAbsent(new String(n, StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(new String(v, StandardCharsets.UTF_8));
        }
        headers.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(headers);
    }

    /** Bytes the headers take stored, counted against the message size limit; 0 for none. */
    public static int size(Map<String, List<String>> headers) {
        return headers.isEmpty() ? 0 : encode(headers).length;
    }
}
