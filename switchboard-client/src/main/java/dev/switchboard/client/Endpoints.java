package dev.switchboard.client;

import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server URLs and which one is in use: the last that answered. A failure moves every caller that still uses that
 * URL on to the next one, round robin.
 */
final class Endpoints {
    private final List<URI> servers;
    private final AtomicInteger current = new AtomicInteger();

    Endpoints(List<URI> servers) {
        this.servers = servers;
    }

    URI current() {
        return servers.get(current.get());
    }

    int size() {
        return servers.size();
    }

    /** {@code server} failed: move on unless another caller already did. */
    void failed(URI server) {
        int i = servers.indexOf(server);
        current.compareAndSet(i, (i + 1) % servers.size());
    }

    /** {@code path} under a server's URL (which may carry a path prefix). */
    static URI resolve(URI server, String pathAndQuery) {
        return URI.create(server.toString() + pathAndQuery);
    }

    /** {@code /v1/ws} on the same host and prefix: http becomes ws, https becomes wss. */
    static URI webSocket(URI server) {
        String s = server.toString();
        int colon = s.indexOf(':');
        boolean secure = s.substring(0, colon).equalsIgnoreCase("https");
        return URI.create((secure ? "wss" : "ws") + s.substring(colon) + "/v1/ws");
    }

    /**
     * One path segment: a topic or queue name, a job id. Valid names need no escaping; anything else is escaped so
     * that the server sees the name as given and refuses it, instead of the request landing on another path.
     */
    static String segment(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
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
