package dev.switchboard.server;

import dev.switchboard.auth.Authenticator;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.broker.Broker;
import dev.switchboard.codec.http.AdminEndpoints;
import dev.switchboard.codec.http.BodyAggregator;
import dev.switchboard.codec.http.DashboardEndpoints;
import dev.switchboard.codec.http.JobEndpoints;
import dev.switchboard.codec.http.OpsEndpoints;
import dev.switchboard.codec.http.RequestTimeouts;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.codec.proxy.Sidecar;
import dev.switchboard.codec.sse.SseEndpoint;
import dev.switchboard.codec.websocket.WebSocketEndpoint;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.jobs.JobService;
import dev.switchboard.presence.Presence;
import dev.switchboard.router.ApiRouter;
import dev.switchboard.router.Routes;
import dev.switchboard.transport.ConnectionLimiter;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The handlers of one client connection, in order: x-ray counters → connection limit → request timeouts → HTTP codec →
 * sidecar proxy (with upstreams only; docs/sidecar.md) → CORS → body aggregator → router. A streaming response (SSE) keeps them; an upgrade (WebSocket) replaces the HTTP handlers of
 * its connection. One instance serves every connection of a server.
 */
public final class ConnectionPipeline {
    private final Routes routes;
    private final Limits limits;
    private final ConnectionLimiter connections;
    private final CorsConfig cors;
    private final HttpDecoderConfig httpConfig;
    private final ConnectionRegistry registry;
    /** Null without upstreams. */
    private final Sidecar sidecar;

    public ConnectionPipeline(Routes routes, Limits limits, List<String> corsOrigins, MeterRegistry metrics,
                              ConnectionRegistry registry, Sidecar sidecar) {
        this.routes = routes;
        this.sidecar = sidecar;
        this.registry = registry;
        this.limits = limits;
        this.connections = new ConnectionLimiter(limits.maxConnections(), limits.maxConnectionsPerAddress(), metrics,
                ConnectionPipeline::refuse);
        this.cors = corsConfig(corsOrigins);
        this.httpConfig = new HttpDecoderConfig().setMaxInitialLineLength(8192)
                .setMaxHeaderSize(limits.maxHeaderBytes()).setMaxChunkSize(64 * 1024);
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

    /** The server's endpoints over the engine, delivery and jobs (null: none), as {@code config} sets them up. */
    public static Routes routes(Broker broker, Delivery delivery, JobService jobs, ServerConfig config,
                                PrometheusMeterRegistry metrics, ConnectionRegistry connections,
                                Authenticator authenticator, boolean sidecar) {
        Limits limits = config.limits();
        Presence presence = Presence.open(broker);
        SseEndpoint sse = new SseEndpoint(delivery, config.sseHeartbeat(), limits.slowConsumerTimeout(), presence);
        PublishLimiter publishes = new PublishLimiter(limits.maxPublishRatePerConnection(),
                limits.maxPublishRatePerSubject(), metrics);
        TopicEndpoints topics = new TopicEndpoints(broker, delivery, presence);
        return new Routes(topics, new PollEndpoint(delivery), sse,
                new WebSocketEndpoint(broker, delivery, limits, config.wsPingInterval(), publishes, presence),
                new OpsEndpoints(metrics, broker), jobs == null ? null : new JobEndpoints(jobs),
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

    /** A connection past a limit: its router answers with the refusal (see {@link ConnectionLimiter}). */
    private static void refuse(Channel ch, ConnectionLimiter.Refusal why) {
        ApiRouter router = ch.pipeline().get(ApiRouter.class);
        if (router != null) {
            router.refuseRequests(why == ConnectionLimiter.Refusal.CAPACITY
                    ? new ApiException(ErrorCode.UNAVAILABLE, "the server has reached --max-connections; retry later")
                    : new ApiException(ErrorCode.LIMIT_EXCEEDED, "too many connections from your address "
                            + "(--max-connections-per-address); close some and retry"));
        }
    }

    /** Adds a new connection's handlers to its (empty) pipeline. */
    public void install(ChannelPipeline p) {
        p.addLast("xray", registry.newConnection())
                .addLast("connections", connections)
                .addLast("timeouts", new RequestTimeouts(limits.headerTimeout(), limits.idleTimeout()))
                .addLast("http", new HttpServerCodec(httpConfig));
        if (sidecar != null) {
            p.addLast("proxy", sidecar.newHandler());
        }
        p.addLast("cors", new CorsHandler(cors))
                .addLast("aggregator", new BodyAggregator(limits.maxMessageBytes()))
                .addLast("router", new ApiRouter(routes, limits.answerTimeout()));
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
