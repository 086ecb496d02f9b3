package dev.switchboard.codec.proxy;

import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.xray.ConnectionRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * Sidecar mode (docs/sidecar.md), shared by every connection: which requests go upstream, and each route's
 * {@link Upstream}. Each connection has a {@link ProxyHandler} of its own.
 */
public final class Sidecar implements AutoCloseable {
    /** The dashboard's home when an upstream owns {@code /}. */
    public static final String DASHBOARD = "/_switchboard/";

    /** By identity: looked up per request with the config's own route, and a record's hash is computed each time. */
    private final Map<UpstreamRoute, Upstream> upstreams = new IdentityHashMap<>();
    private final SidecarConfig config;
    private final Duration maxWait;
    private final Duration idleTimeout;

    /**
     * @param channelClass the client socket channel of the server's I/O engine
     * @param maxWait      the longest long poll (--max-wait), which bounds a hold's timeout
     * @param idleTimeout  a WebSocket passthrough with no bytes either way for this long is closed (--idle-timeout)
     */
    public Sidecar(SidecarConfig config, Class<? extends SocketChannel> channelClass, ConnectionRegistry registry,
                   MeterRegistry metrics, Duration maxWait, Duration idleTimeout) {
        this.config = config;
        this.maxWait = maxWait;
        this.idleTimeout = idleTimeout;
        SslContext tls = config.routes().stream().anyMatch(UpstreamRoute::tls) ? clientTls(config.upstreamCa()) : null;
        for (UpstreamRoute r : config.routes()) {
            upstreams.put(r, new Upstream(r, config, channelClass, registry, metrics, r.tls() ? tls : null));
        }
    }

    /**
     * TLS to https upstreams: their certificate must chain to {@code caFile}'s certificates (the JDK's trust store
     * without one) and name the route's host. Read now, so that a server with an unreadable CA file does not start.
     */
    private static SslContext clientTls(Path caFile) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    .endpointIdentificationAlgorithm("HTTPS");
            if (caFile != null) {
                b.trustManager(caFile.toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use --upstream-ca " + caFile + ": " + e.getMessage(), e);
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

    Duration idleTimeout() {
        return idleTimeout;
    }

    @Override
    public void close() {
        upstreams.values().forEach(Upstream::close);
    }
}
