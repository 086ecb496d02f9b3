package dev.switchboard.cli;

import java.nio.charset.StandardCharsets;

/** Paths of the jobs commands, which still speak HTTP themselves (the topic commands use the client library). */
final class Urls {
    private Urls() {}

    /**
     * One path segment: a queue name, a job id. Valid names need no escaping; anything else is escaped so that the
     * server sees the name as typed and can refuse it, instead of the request landing on another path.
     */
    static String pathSegment(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
