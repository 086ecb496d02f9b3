package dev.switchboard.config;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Requests whose path starts with {@code prefix} go to the HTTP server at {@code host:port}, path unchanged
 * ({@code --route /prefix=URL}; {@code --upstream URL} is the route {@code /}).
 */
public record UpstreamRoute(String prefix, String host, int port) {
    public UpstreamRoute {
        if (!prefix.startsWith("/")) {
            throw new IllegalArgumentException("a route's prefix starts with '/', got '" + prefix + "'");
        }
    }

    /** {@code /prefix=http://host:port}. */
    public static UpstreamRoute parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq < 1) {
            throw new IllegalArgumentException("a route is /prefix=http://host:port, got '" + spec + "'");
        }
        return of(spec.substring(0, eq), spec.substring(eq + 1));
    }

    /**
     * A route to {@code url}, which names a server only: paths are forwarded as the client sent them, and plain HTTP
     * only (the upstream runs beside Switchboard, on loopback or a private network).
     */
    public static UpstreamRoute of(String prefix, String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: '" + url + "'");
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("an upstream is http://host[:port], got '" + url + "'");
        }
        if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null) {
            throw new IllegalArgumentException("an upstream URL has no path or query (paths are forwarded as sent), "
                    + "got '" + url + "'");
        }
        return new UpstreamRoute(prefix, uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort());
    }

    /** Whether {@code path} is this route's: the prefix itself or below it at a segment boundary. */
    public boolean matches(String path) {
        return path.startsWith(prefix) && (prefix.endsWith("/") || path.length() == prefix.length()
                || path.charAt(prefix.length()) == '/' || path.charAt(prefix.length()) == '?');
    }

    /** For metrics and logs. */
    public String name() {
        return prefix;
    }
}
