package dev.switchboard.cli;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/** The server's endpoints, derived from {@code --server} (which may carry a path prefix). */
record Urls(String base) {

    /** Accepts {@code http} and {@code https} URLs with a host; throws IllegalArgumentException otherwise. */
    static Urls of(ClientOptions client) {
        return of(client.server);
    }

    static Urls of(URI server) {
        String scheme = server.getScheme() == null ? "" : server.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || server.getHost() == null) {
            throw new IllegalArgumentException("--server must be an http:// or https:// URL, got '" + server + "'");
        }
        return new Urls(withoutTrailingSlash(server.toString()));
    }

    static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    URI messages(String topic) {
        return URI.create(topicPath(topic) + "/messages");
    }

    URI poll(String topic, From from, Duration wait, int limit) {
        String query = "?from=" + from + (wait == null ? "" : "&wait=" + wait.toMillis() + "ms") + "&limit=" + limit;
        return URI.create(topicPath(topic) + "/messages" + query);
    }

    URI events(String topic, From from) {
        return URI.create(topicPath(topic) + "/events?from=" + from);
    }

    /** {@code /v1/ws} on the same host and prefix: http becomes ws, https becomes wss. */
    URI webSocket() {
        int colon = base.indexOf(':');
        boolean secure = base.substring(0, colon).equalsIgnoreCase("https");
        return URI.create((secure ? "wss" : "ws") + base.substring(colon) + "/v1/ws");
    }

    private String topicPath(String topic) {
        return base + "/v1/topics/" + pathSegment(topic);
    }

    /**
     * One path segment: a topic or queue name, a job id. Valid names need no escaping; anything else is
     * escaped so that the server sees the name as typed and can refuse it, instead of the request landing on
     * another path.
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
