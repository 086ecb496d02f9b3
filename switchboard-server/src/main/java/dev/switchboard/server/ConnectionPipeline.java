package dev.switchboard.server;

import dev.switchboard.auth.Authenticator;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.broker.Broker;
import dev.switchboard.codec.http.AdminEndpoints;
import dev.switchboard.codec.http.BodyAggregator;
import dev.switchboard.codec.http.DashboardEndpoints;
import dev.switchboard.codec.http.GroupEndpoints;
import dev.switchboard.codec.http.JobEndpoints;
import dev.switchboard.codec.http.OpsEndpoints;
import dev.switchboard.codec.http.RequestTimeouts;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.codec.websocket.ExtendedConnect;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.codec.nats.NatsEndpoint;
import dev.switchboard.codec.proxy.Sidecar;
import dev.switchboard.codec.sse.SseEndpoint;
import dev.switchboard.codec.websocket.WebSocketEndpoint;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.groups.GroupService;
import dev.switchboard.jobs.JobService;
import dev.switchboard.presence.Presence;
import dev.switchboard.router.ApiRouter;
import dev.switchboard.router.Routes;
import dev.switchboard.transport.ConnectionLimiter;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.switchboard.config.Protocols;
import dev.switchboard.transport.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.AsciiString;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * The handlers of one client connection, in order: x-ray counters → connection limit → request timeouts → protocol
 * detection, which puts in what the first bytes ask for:
 * <ul>
 * <li>on a TLS port, TLS, then by ALPN HTTP/2 or HTTP/1.1 (a plaintext request is refused, {@link ProtocolDetector});
 * <li>in clear text, HTTP/2 for a client that starts with its connection preface (prior knowledge), else HTTP/1.1,
 *     which an {@code Upgrade: h2c} request can turn into HTTP/2.
 * </ul>
 * HTTP/1.1 is the HTTP codec followed by the {@linkplain #addRequestHandlers request handlers} (with upstreams, the
 * sidecar's proxy first: docs/sidecar.md); HTTP/2 is Netty's
 * frame codec and multiplexer, which gives each stream a channel of its own with an HTTP/1.1-style codec followed by
 * the same request handlers, so every endpoint runs unchanged per stream, and a stream's writability follows its
 * flow-control window. A streaming response (SSE) keeps its handlers; an upgrade (WebSocket) replaces the HTTP
 * handlers of its connection. One instance serves every connection of a server.
 */
public final class ConnectionPipeline {
    /** A connection past a connection limit: each request handler answers its requests with this refusal. */
    private static final AttributeKey<ApiException> REFUSAL = AttributeKey.valueOf("switchboard.refusal");
    private static final long GOAWAY_GRACE_MILLIS = 1000;

    private final Routes routes;
    private final Limits limits;
    private final Protocols protocols;
    private final ServerTls tls;
    private final ConnectionLimiter connections;
    private final CorsConfig cors;
    private final HttpDecoderConfig httpConfig;
    private final H2cUpgradeGate h2cUpgradeGate;
    private final ConnectionRegistry registry;
    /** Null without upstreams. */
    private final Sidecar sidecar;

    /** @param tls the TLS of the port, null in clear text */
    public ConnectionPipeline(Routes routes, Limits limits, List<String> corsOrigins, MeterRegistry metrics,
                              ConnectionRegistry registry, Protocols protocols, ServerTls tls, Sidecar sidecar) {
        this.routes = routes;
        this.sidecar = sidecar;
        this.registry = registry;
        this.limits = limits;
        this.protocols = protocols;
        this.tls = tls;
        this.connections = new ConnectionLimiter(limits.maxConnections(), limits.maxConnectionsPerAddress(), metrics,
                ConnectionPipeline::refuse);
        this.cors = corsConfig(corsOrigins);
        this.httpConfig = new HttpDecoderConfig().setMaxInitialLineLength(8192)
                .setMaxHeaderSize(limits.maxHeaderBytes()).setMaxChunkSize(64 * 1024);
        this.h2cUpgradeGate = new H2cUpgradeGate(limits.maxMessageBytes());
    }

    /**
     * Who may call, as {@code config} says; reads the key files now, so that a server whose keys cannot be read does
     * not start (and refuses nobody by accident later).
     */
    public static Authenticator authenticator(ServerConfig config) {
        try {
            return JwtAuthenticator.create(config.auth());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * The server's endpoints over the engine, delivery, jobs (null: none), groups and presence, as {@code config}
     * sets them up.
     */
    public static Routes routes(Broker broker, Delivery delivery, JobService jobs, GroupService groups,
                                Presence presence, ServerConfig config,
                                PrometheusMeterRegistry metrics, ConnectionRegistry connections,
                                Authenticator authenticator, boolean sidecar) {
        Limits limits = config.limits();
        SseEndpoint sse = new SseEndpoint(delivery, config.sseHeartbeat(), limits.slowConsumerTimeout(), presence);
        PublishLimiter publishes = new PublishLimiter(limits.maxPublishRatePerConnection(),
                limits.maxPublishRatePerSubject(), metrics);
        TopicEndpoints topics = new TopicEndpoints(broker, delivery, presence);
        return new Routes(topics, new PollEndpoint(delivery), sse,
                new WebSocketEndpoint(broker, delivery, limits, config.wsPingInterval(), publishes, presence, groups),
                new OpsEndpoints(metrics, broker), jobs == null ? null : new JobEndpoints(jobs),
                new GroupEndpoints(groups, limits.maxWait()),
                        new AdminEndpoints(connections, topics),
                new DashboardEndpoints(sidecar ? Sidecar.DASHBOARD : "/"), authenticator, isLoopback(config.bind()), config.allowedHosts(),
                config.corsOrigins(), publishes);
    }

    private static boolean isLoopback(String bind) {
        try {
            return InetAddress.getByName(bind).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve --bind " + bind, e);
        }
    }

    /**
     * A connection past a limit: the router of each of its requests (one per connection on HTTP/1.1, one per stream
     * on HTTP/2) answers with the refusal (see {@link ConnectionLimiter}).
     */
    private static void refuse(Channel ch, ConnectionLimiter.Refusal why) {
        if (NatsEndpoint.refuse(ch, why == ConnectionLimiter.Refusal.CAPACITY ? "maximum connections exceeded"
                : "maximum connections per address exceeded")) { // nats-server's words for the same refusals
            return;
        }
        ch.attr(REFUSAL).set(why == ConnectionLimiter.Refusal.CAPACITY
                ? new ApiException(ErrorCode.UNAVAILABLE, "the server has reached --max-connections; retry later")
                : new ApiException(ErrorCode.LIMIT_EXCEEDED, "too many connections from your address "
                        + "(--max-connections-per-address); close some and retry"));
    }

    /** Adds a new connection's handlers to its (empty) pipeline; the protocol's follow once its first bytes came. */
    public void install(ChannelPipeline p) {
        p.addLast("xray", registry.newConnection())
                .addLast("connections", connections)
                .addLast("timeouts", new RequestTimeouts(limits.headerTimeout(), limits.idleTimeout()))
                .addLast("detect", new ProtocolDetector(this, tls != null, protocols.http2()));
    }

    /**
     * The handlers that take one request to its answer, after the HTTP codec of an HTTP/1.1 connection or of an
     * HTTP/2 stream: sidecar proxy (with upstreams only) → CORS → body aggregator → router. A handler every request
     * passes through goes here.
     */
    public void addRequestHandlers(ChannelPipeline p) {
        ApiRouter router = new ApiRouter(routes, limits.answerTimeout());
        Channel ch = p.channel();
        ApiException refusal = (ch instanceof Http2StreamChannel ? ch.parent() : ch).attr(REFUSAL).get();
        if (refusal != null) {
            router.refuseRequests(refusal);
        }
        if (sidecar != null) {
            p.addLast("proxy", sidecar.newHandler()); // before the aggregator: proxied bodies stream
        }
        p.addLast("cors", new CorsHandler(cors))
                .addLast("aggregator", new BodyAggregator(limits.maxMessageBytes()))
                .addLast("router", router);
    }

    /** A TLS connection: the handshake, then the protocol ALPN chose. */
    void startTls(ChannelHandlerContext detector) {
        SslHandler ssl = tls.newHandler(detector.alloc());
        detector.pipeline().replace(detector.name(), "tls", ssl);
        detector.pipeline().addAfter("tls", "alpn", new AlpnChoice(this));
    }

    /**
     * HTTP/1.1 after the handler named {@code after}; in clear text with HTTP/2 on, the connection's requests up to the
     * first that does not ask may upgrade to h2c ({@link H2cUpgradeGate}).
     */
    void startHttp1(ChannelPipeline p, String after, boolean h2cUpgrade) {
        HttpServerCodec codec = new HttpServerCodec(httpConfig);
        p.addAfter(after, "http", codec);
        if (h2cUpgrade) {
            p.addAfter("http", "h2c-upgrade", new HttpServerUpgradeHandler(codec, protocol ->
                    AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                            ? new H2cUpgrade(this) : null, limits.maxMessageBytes()));
            p.addAfter("http", "h2c-gate", h2cUpgradeGate);
        }
        addRequestHandlers(p);
    }

    /** Takes out what {@link #addRequestHandlers} put in: an HTTP/1.1 connection that became HTTP/2. */
    static void removeRequestHandlers(ChannelPipeline p) {
        for (String name : List.of("proxy", "cors", "aggregator", "router")) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** HTTP/2 after the handler named {@code after}: frames, then one channel per stream. */
    void startHttp2(ChannelPipeline p, String after) {
        Http2Streams streams = new Http2Streams(limits.idleTimeout());
        p.addAfter(after, "h2", http2Codec()).addAfter("h2", "h2-streams", multiplexer(streams));
        becameHttp2(p, streams);
    }

    /**
     * The frame codec with the server's limits: concurrent streams per connection, and the request head's size. A
     * connection closed by the server (idle, or the server stopping) says GOAWAY, then gives open streams (SSE) as
     * long as a WebSocket gets for its Close frame, not Netty's default of 30 s.
     */
    Http2FrameCodec http2Codec() {
        return Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(protocols.maxStreamsPerConnection())
                        .maxHeaderListSize(limits.maxHeaderBytes())
                        .connectProtocolEnabled(true)) // RFC 8441: WebSocket on a stream
                .validateHeaders(true)
                .gracefulShutdownTimeoutMillis(GOAWAY_GRACE_MILLIS)
                .build();
    }

    /**
     * One channel per stream: an HTTP/1.1-style codec, then the request handlers; before them, a WebSocket by
     * extended CONNECT (RFC 8441) becomes the upgrade request it stands for.
     */
    Http2MultiplexHandler multiplexer(Http2Streams streams) {
        ChannelInitializer<Http2StreamChannel> stream = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                streams.opened(ch);
                ch.pipeline().addLast("h2-connect", new ExtendedConnect())
                        .addLast("http", new Http2StreamFrameToHttpObjectCodec(true));
                addRequestHandlers(ch.pipeline());
            }
        };
        return new Http2MultiplexHandler(stream, stream); // the second takes stream 1 of an h2c upgrade
    }

    /**
     * The connection speaks HTTP/2 now: the HTTP/1.1 request timeouts give way to closing it when it had no stream
     * open for the idle timeout ({@link Http2Streams}), and the x-ray shows its streams.
     */
    void becameHttp2(ChannelPipeline connection, Http2Streams streams) {
        if (connection.get(RequestTimeouts.class) != null) {
            connection.remove(RequestTimeouts.class);
        }
        connection.addLast("h2-idle", streams);
        ConnectionStats.of(connection.channel()).http2(streams::open);
    }

    Duration idleTimeout() {
        return limits.idleTimeout();
    }

    /** A NATS connection's handlers: the same x-ray counters and connection limit as HTTP's, then NATS. */
    public void installNats(ChannelPipeline p, NatsEndpoint nats) {
        p.addLast("xray", registry.newConnection()).addLast("connections", connections);
        nats.install(p);
    }

    /**
     * Lets browser pages on other origins use the API; preflights are answered by Netty's CORS handler. No origins
     * means a list of none, not a disabled config: Netty's {@code disable()} only stops adding headers to responses,
     * while its preflight answer still allows any origin, so a foreign page's DELETE or JSON publish would be sent.
     * What CORS lets through regardless (a simple POST, a WebSocket) the router refuses by its Origin.
     */
    private static CorsConfig corsConfig(List<String> origins) {
        CorsConfigBuilder b = origins.contains("*") ? CorsConfigBuilder.forAnyOrigin()
                : CorsConfigBuilder.forOrigins(origins.toArray(String[]::new));
        return b.allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE)
                .allowedRequestHeaders("Content-Type", "Idempotency-Key", "Last-Event-ID", "Lease-Token",
                        "Authorization")
                .exposeHeaders("Location", "Idempotent-Replayed")
                .maxAge(600)
                .build();
    }
}
