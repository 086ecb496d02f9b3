package dev.switchboard.codec.proxy;

import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.xray.ConnectionRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.socket.SocketChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sidecar mode (docs/sidecar.md), shared by every connection: which requests go upstream, and each route's
 * {@link Upstream}. Each connection has a {@link ProxyHandler} of its own.
 */
public final class Sidecar implements AutoCloseable {
    /** The dashboard's home when an upstream owns {@code /}. */
    public static final String DASHBOARD = "/_switchboard/";

    private final Map<UpstreamRoute, Upstream> upstreams = new LinkedHashMap<>();
    private final SidecarConfig config;
    private final Duration maxWait;

    /**
     * @param channelClass the client socket channel of the server's I/O engine
     * @param maxWait      the longest long poll (--max-wait), which bounds a hold's timeout
     */
    public Sidecar(SidecarConfig config, Class<? extends SocketChannel> channelClass, ConnectionRegistry registry,
                   MeterRegistry metrics, Duration maxWait) {
        this.config = config;
        this.maxWait = maxWait;
        for (UpstreamRoute r : config.routes()) {
            upstreams.put(r, new Upstream(r, config, channelClass, registry, metrics));
        }
    }

    /** A handler for a new connection (or HTTP/2 stream). */
    public ProxyHandler newHandler() {
        return new ProxyHandler(this);
    }

    /** Switchboard's own paths, never proxied. */
    static boolean isOwn(String path) {
        return path.startsWith("/v1/") || path.equals("/v1") || path.equals("/healthz") || path.equals("/readyz")
                || path.equals("/metrics") || path.startsWith(DASHBOARD) || path.equals("/_switchboard");
    }

    /** The upstream of a request for {@code path} (no query), or null: Switchboard answers it. */
    Upstream upstreamOf(String path) {
        if (isOwn(path)) {
            return null;
        }
        UpstreamRoute r = config.routeOf(path);
        return r == null ? null : upstreams.get(r);
    }

    Duration maxWait() {
        return maxWait;
    }

    @Override
    public void close() {
        upstreams.values().forEach(Upstream::close);
    }
}
