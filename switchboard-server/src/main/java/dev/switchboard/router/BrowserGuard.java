package dev.switchboard.router;

import dev.switchboard.codec.http.Exchange;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a web page the user happens to open must not be able to do to a Switchboard it can reach (docs/api.md,
 * "Browsers"). CORS only hides answers from a foreign page: a simple {@code POST} is still sent, and a WebSocket is
 * not subject to CORS at all. So a request that changes something (any method but GET/HEAD, and the WebSocket
 * upgrade) from an {@code Origin} that is neither the server's own nor in {@code --cors-origins} is refused before it
 * reaches an endpoint. And the {@code Host} a request names must be one this server answers to, so that a page whose
 * DNS name is re-pointed at 127.0.0.1 (DNS rebinding) cannot use the server as if it were its own.
 */
final class BrowserGuard {
    /** The names a loopback listener answers to, on any port. */
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");

    /** Host names accepted (lower case, no port); empty: any. */
    private final Set<String> hosts;
    private final boolean anyOrigin;
    private final Set<String> origins;
    /** The last Host header judged: clients send the same one on every request, so it is parsed once, not each time. */
    private volatile HostVerdict lastHost;

    private record HostVerdict(String host, boolean allowed) {}

    /**
     * @param loopbackBind  whether the server listens on a loopback address: then the loopback names are accepted
     * @param allowedHosts  further names (a non-loopback server with none accepts any Host)
     * @param corsOrigins   origins allowed to call from their pages; {@code *}: any
     */
    BrowserGuard(boolean loopbackBind, List<String> allowedHosts, List<String> corsOrigins) {
        Set<String> names = allowedHosts.stream().map(BrowserGuard::hostName).collect(Collectors.toSet());
        if (loopbackBind) {
            names.addAll(LOOPBACK_NAMES);
        }
        this.hosts = Set.copyOf(names);
        this.anyOrigin = corsOrigins.contains("*");
        this.origins = corsOrigins.stream().map(o -> o.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        this.lastHost = new HostVerdict("", hosts.contains(hostName("")));
    }

    void check(Exchange ex, String path) {
        String host = ex.header(HttpHeaderNames.HOST);
        if (host != null && !hosts.isEmpty() && !hostAllowed(host)) {
            throw new ApiException(ErrorCode.HOST_NOT_ALLOWED, "this server does not answer to the host '"
                    + abbreviate(host) + "'; add it to --allowed-hosts");
        }
        String origin = ex.header(HttpHeaderNames.ORIGIN);
        if (origin != null && changesState(ex, path) && !originAllowed(origin, host)) {
            throw new ApiException(ErrorCode.ORIGIN_NOT_ALLOWED, "pages from '" + abbreviate(origin)
                    + "' may not change anything here; add the origin to --cors-origins");
        }
    }

    private boolean hostAllowed(String host) {
        HostVerdict last = lastHost;
        if (!last.host().equals(host)) {
            last = new HostVerdict(host, hosts.contains(hostName(host)));
            lastHost = last;
        }
        return last.allowed();
    }

    private static boolean changesState(Exchange ex, String path) {
        HttpMethod m = ex.request().method();
        return !(m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD)) || path.equals("/v1/ws");
    }

    private boolean originAllowed(String origin, String host) {
        String o = origin.toLowerCase(Locale.ROOT);
        if (anyOrigin || origins.contains(o)) {
            return true;
        }
        // The server's own pages: same scheme-less authority as the Host they were loaded from.
        return host != null && (o.equals("http://" + host.toLowerCase(Locale.ROOT))
                || o.equals("https://" + host.toLowerCase(Locale.ROOT)));
    }

    /** {@code Example.com:8080} → {@code example.com}; {@code [::1]:8080} → {@code [::1]}; a trailing dot dropped. */
    static String hostName(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        int end;
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            end = close < 0 ? h.length() : close + 1;
        } else {
            int colon = h.indexOf(':');
            end = colon < 0 ? h.length() : colon;
        }
        h = h.substring(0, end);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
