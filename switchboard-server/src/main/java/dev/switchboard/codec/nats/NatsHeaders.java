package dev.switchboard.codec.nats;

import dev.switchboard.broker.MessageHeaders;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NATS header blocks ({@code NATS/1.0\r\nName: value\r\n…\r\n}, as HPUB sends and HMSG carries) to and from the
 * message model's headers. A status line's code and description (a server's 503 "no responders") is not kept.
 */
final class NatsHeaders {
    private static final String VERSION = "NATS/1.0";

    private NatsHeaders() {}

    /** The headers of a block, or null when it is not a NATS/1.0 header block. */
    static Map<String, List<String>> parse(byte[] block) {
        String text = new String(block, StandardCharsets.UTF_8);
        if (!text.startsWith(VERSION) || !text.endsWith("\r\n\r\n")) {
            return null;
        }
        String[] lines = text.substring(0, text.length() - 4).split("\r\n", -1);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0 || lines[i].substring(0, colon).isBlank()) {
                return null;
            }
            headers.computeIfAbsent(lines[i].substring(0, colon).strip(), k -> new ArrayList<>())
                    .add(lines[i].substring(colon + 1).strip());
        }
        headers.replaceAll((k, v) -> List.copyOf(v));
        return headers.isEmpty() ? MessageHeaders.NONE : headers;
    }

    /** The block HMSG carries for these headers. */
    static byte[] format(Map<String, List<String>> headers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((VERSION + "\r\n").getBytes(StandardCharsets.US_ASCII));
        headers.forEach((name, values) -> {
            for (String value : values) {
                out.writeBytes((name + ": " + value + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
        });
        out.writeBytes(new byte[] {'\r', '\n'});
        return out.toByteArray();
    }
}
