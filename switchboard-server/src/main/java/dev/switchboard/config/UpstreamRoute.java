package dev.switchboard.config;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Requests whose path starts with {@code prefix} go to the HTTP server at {@code host:port}, over TLS when
 * {@code tls}, path unchanged ({@code --route /prefix=URL}; {@code --upstream URL} is the route {@code /}).
 */
public record UpstreamRoute(String prefix, String host, int port, boolean tls) {
    public UpstreamRoute {
        if (!prefix.startsWith("/")) {
            throw new IllegalArgumentException("a route's prefix starts with '/', got '" + prefix + "'");
        }
    }

    /** {@code /prefix=http[s]://host:port}. */
    public static UpstreamRoute parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq < 1) {
            throw new IllegalArgumentException("a route is /prefix=http[s]://host:port, got '" + spec + "'");
        }
        return of(spec.substring(0, eq), spec.substring(eq + 1));
    }

    /**
     * A route to {@code url}, which names a server only: paths are forwarded as the client sent them. {@code https}
     * reaches it over TLS, its certificate checked against the host name ({@code --upstream-ca} or the JDK's trust
     * store).
     */
    public static UpstreamRoute of(String prefix, String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: '" + url + "'");
        }
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        if (!tls && !"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("an upstream is http[s]://host[:port], got '" + url + "'");
        }
        if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null) {
            throw new IllegalArgumentException("an upstream URL has no path or query (paths are forwarded as sent), "
                    + "got '" + url + "'");
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
        return new UpstreamRoute(prefix, uri.getHost(), port, tls);
    }

    /** Whether {@code path} is this route's: the prefix itself or below it at a segment boundary. */
    public boolean matches(String path) {
        return path.startsWith(prefix) && (prefix.endsWith("/") || path.length() == prefix.length()
                || path.charAt(prefix.length()) == '/' || path.charAt(prefix.length()) == '?');
    }

    /** The upstream, for messages. */
    public String url() {
        return (tls ? "https://" : "http://") + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** For metrics and logs. */
    public String name() {
        return prefix;
    }
}
