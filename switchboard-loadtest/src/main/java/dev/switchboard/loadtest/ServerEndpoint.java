package dev.switchboard.loadtest;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Where the server is and the paths of the calls the benchmark makes; the URL may carry a path prefix, and a query
 * {@code token=JWT} for a server with {@code --auth jwt} (every call then carries it as its {@code token} parameter).
 */
final class ServerEndpoint {
    private final InetSocketAddress address;
    private final String host;
    private final String basePath;
    private final String scheme;
    /** {@code token=…} as given, or empty. */
    private final String tokenQuery;

    private ServerEndpoint(InetSocketAddress address, String host, String basePath, String scheme, String tokenQuery) {
        this.address = address;
        this.host = host;
        this.basePath = basePath;
        this.scheme = scheme;
        this.tokenQuery = tokenQuery;
    }

    /**
     * Resolves the host once, so thousands of connections do not each look it up.
     *
     * @param server an {@code http} (or {@code redis}, {@code nats}) URL with a host, as {@link FanoutConfig} checks
     * @throws UnknownHostException if the host does not resolve
     */
    static ServerEndpoint of(URI server) throws UnknownHostException {
        String scheme = server.getScheme() == null ? "http" : server.getScheme().toLowerCase(java.util.Locale.ROOT);
        int defaultPort = switch (scheme) {
            case "redis" -> 6379;
            case "nats" -> 4222;
            default -> 80;
        };
        int port = server.getPort() < 0 ? defaultPort : server.getPort();
        InetSocketAddress address = new InetSocketAddress(server.getHost(), port);
        if (address.isUnresolved()) {
            throw new UnknownHostException("cannot resolve " + server.getHost());
        }
        String path = server.getRawPath() == null ? "" : server.getRawPath().replaceAll("/+$", "");
        String query = server.getRawQuery();
        String token = query != null && query.startsWith("token=") ? query : "";
        return new ServerEndpoint(address, server.getHost() + ":" + port, path, scheme, token);
    }

    /** A path and query with the token added, if there is one. */
    private String authorized(String pathAndQuery) {
        return tokenQuery.isEmpty() ? pathAndQuery : pathAndQuery + (pathAndQuery.contains("?") ? "&" : "?") + tokenQuery;
    }

    InetSocketAddress address() {
        return address;
    }

    /** The value of the {@code Host} header. */
    String host() {
        return host;
    }

    String publishPath(String topic) {
        return authorized(messagesPath(topic));
    }

    /** Batch publish ({@code POST /v1/topics/TOPIC/batch}, docs/api.md). */
    String batchPath(String topic) {
        return authorized(basePath + "/v1/topics/" + topic + "/batch");
    }

    private String messagesPath(String topic) {
        return basePath + "/v1/topics/" + topic + "/messages";
    }

    /** A long poll for the topic's messages from offset 1, held up to {@code wait}. */
    String longPollPath(String topic, java.time.Duration wait) {
        return authorized(messagesPath(topic) + "?from=1&wait=" + wait.toMillis() + "ms");
    }

    /**
     * A stream over the topic's pattern ({@code bench.x} → {@code bench.*}): the same messages as
     * {@link #eventsPath}, reached through the server's pattern matching.
     */
    String patternEventsPath(String topic) {
        int dot = topic.lastIndexOf('.');
        return authorized(basePath + "/v1/events?topic=" + topic.substring(0, dot + 1) + "*&from=next");
    }

    String eventsPath(String topic) {
        return authorized(basePath + "/v1/topics/" + topic + "/events?from=next");
    }

    /** The Prometheus metrics, {@code GET /metrics} (with {@code --auth jwt}, the token must be an admin's). */
    URI metricsUri() {
        return URI.create(scheme + "://" + host + authorized(basePath + "/metrics"));
    }

    /** The topic's description, {@code GET /v1/topics/T}: offsets, retention, live subscribers per transport. */
    URI topicUri(String topic) {
        return URI.create(scheme + "://" + host + authorized(basePath + "/v1/topics/" + topic));
    }

    String webSocketPath(String topic) {
        return authorized(basePath + "/v1/ws?subscribe=" + topic + "&from=next");
    }

    @Override
    public String toString() {
        return scheme + "://" + host + basePath;
    }
}
