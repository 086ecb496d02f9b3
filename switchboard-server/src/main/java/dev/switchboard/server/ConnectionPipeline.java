package dev.switchboard.server;

import dev.switchboard.broker.Broker;
import dev.switchboard.codec.http.BodyAggregator;
import dev.switchboard.codec.http.JobEndpoints;
import dev.switchboard.codec.http.OpsEndpoints;
import dev.switchboard.codec.http.RequestTimeouts;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.codec.sse.SseEndpoint;
import dev.switchboard.codec.websocket.WebSocketEndpoint;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.jobs.JobService;
import dev.switchboard.router.ApiRouter;
import dev.switchboard.router.Routes;
import dev.switchboard.transport.ConnectionLimiter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import java.util.List;

/**
 * The handlers of one client connection, in order: connection limit → request timeouts → HTTP codec → CORS → body
 * aggregator → router. A streaming response (SSE) keeps them; an upgrade (WebSocket) replaces the HTTP handlers of
 * its connection. One instance serves every connection of a server.
 */
public final class ConnectionPipeline {
    private final Routes routes;
    private final Limits limits;
    private final ConnectionLimiter connections;
    private final CorsConfig cors;
    private final HttpDecoderConfig httpConfig;

    public ConnectionPipeline(Routes routes, Limits limits, List<String> corsOrigins, MeterRegistry metrics) {
        this.routes = routes;
        this.limits = limits;
        this.connections = new ConnectionLimiter(limits.maxConnections(), metrics);
        this.cors = corsConfig(corsOrigins);
        this.httpConfig = new HttpDecoderConfig().setMaxInitialLineLength(8192)
                .setMaxHeaderSize(limits.maxHeaderBytes()).setMaxChunkSize(64 * 1024);
    }

    /** The server's endpoints over the engine, delivery and jobs (null: none), as {@code config} sets them up. */
    public static Routes routes(Broker broker, Delivery delivery, JobService jobs, ServerConfig config,
                                PrometheusMeterRegistry metrics) {
        Limits limits = config.limits();
        SseEndpoint sse = new SseEndpoint(delivery, config.sseHeartbeat(), limits.slowConsumerTimeout());
        return new Routes(new TopicEndpoints(broker, delivery), new PollEndpoint(delivery), sse,
                new WebSocketEndpoint(broker, delivery, limits, config.wsPingInterval()),
                new OpsEndpoints(metrics, broker), jobs == null ? null : new JobEndpoints(jobs));
    }

    /** Adds a new connection's handlers to its (empty) pipeline. */
    public void install(ChannelPipeline p) {
        p.addLast("connections", connections)
                .addLast("timeouts", new RequestTimeouts(limits.headerTimeout(), limits.idleTimeout()))
                .addLast("http", new HttpServerCodec(httpConfig))
                .addLast("cors", new CorsHandler(cors))
                .addLast("aggregator", new BodyAggregator(limits.maxMessageBytes()))
                .addLast("router", new ApiRouter(routes, limits.answerTimeout()));
    }

    /**
     * Lets browser pages on other origins use the API; preflights are answered by Netty's CORS handler. No origins
     * means a list of none, not a disabled config: Netty's {@code disable()} only stops adding headers to responses,
     * while its preflight answer still allows any origin, so a foreign page's DELETE or JSON publish would be sent.
     */
    private static CorsConfig corsConfig(List<String> origins) {
        CorsConfigBuilder b = origins.contains("*") ? CorsConfigBuilder.forAnyOrigin()
                : CorsConfigBuilder.forOrigins(origins.toArray(String[]::new));
        return b.allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE)
                .allowedRequestHeaders("Content-Type", "Idempotency-Key", "Last-Event-ID", "Lease-Token")
                .exposeHeaders("Location", "Idempotent-Replayed")
                .maxAge(600)
                .build();
    }
}
