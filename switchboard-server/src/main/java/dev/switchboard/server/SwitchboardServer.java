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
import dev.switchboard.config.SocketOptions;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.jobs.JobService;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.router.ApiRouter;
import dev.switchboard.router.Routes;
import dev.switchboard.transport.ConnectionLimiter;
import dev.switchboard.transport.IoEngine;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.handler.codec.http.cors.CorsHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server: opens the broker, binds the listening socket on the chosen event-loop engine and assembles each
 * connection's pipeline: connection limit → request timeouts → HTTP codec → CORS → body aggregator → router. Streams (SSE)
 * and upgrades (WebSocket) later replace the HTTP handlers of their connection.
 */
public final class SwitchboardServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SwitchboardServer.class);

    private final ServerConfig config;
    private final PrometheusMeterRegistry metrics;
    private final Broker broker;
    private final Delivery delivery;
    private final JobService jobs;
    private final IoEngine engine;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    /** Every open client connection, so that closing the server closes them while their event loops still run. */
    private final ChannelGroup clients = new DefaultChannelGroup("switchboard-clients", GlobalEventExecutor.INSTANCE);

    private SwitchboardServer(ServerConfig config) throws InterruptedException {
        this.config = config;
        this.metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        this.engine = IoEngine.select(config.io());
        this.broker = EmbeddedBroker.open(config, metrics);
        Limits limits = config.limits();
        this.delivery = new Delivery(broker, limits, metrics);
        this.jobs = new JobService(broker, limits);
        SseEndpoint sse = new SseEndpoint(delivery, config.sseHeartbeat(), limits.slowConsumerTimeout());
        Routes routes = new Routes(new TopicEndpoints(broker, delivery), new PollEndpoint(delivery), sse,
                new WebSocketEndpoint(broker, delivery, limits, config.wsPingInterval()), new OpsEndpoints(metrics, broker),
                new JobEndpoints(jobs));
        ConnectionLimiter connections = new ConnectionLimiter(limits.maxConnections(), metrics);
        CorsConfig cors = corsConfig(config.corsOrigins());
        HttpDecoderConfig httpConfig = new HttpDecoderConfig().setMaxInitialLineLength(8192)
                .setMaxHeaderSize(limits.maxHeaderBytes()).setMaxChunkSize(64 * 1024);

        int threads = config.ioThreads() > 0 ? config.ioThreads() : Runtime.getRuntime().availableProcessors();
        bossGroup = engine.newGroup(1, "switchboard-accept");
        workerGroup = engine.newGroup(threads, "switchboard-io");
        SocketOptions socket = config.socket();
        ServerBootstrap b = new ServerBootstrap().group(bossGroup, workerGroup).channel(engine.serverChannel())
                .option(ChannelOption.SO_BACKLOG, socket.backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, socket.tcpNoDelay())
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(socket.writeLowWaterMark(), socket.writeHighWaterMark()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        clients.add(ch);
                        ch.pipeline()
                                .addLast("connections", connections)
                                .addLast("timeouts", new RequestTimeouts(limits.headerTimeout(), limits.idleTimeout()))
                                .addLast("http", new HttpServerCodec(httpConfig))
                                .addLast("cors", new CorsHandler(cors))
                                .addLast("aggregator", new BodyAggregator(limits.maxMessageBytes()))
                                .addLast("router", new ApiRouter(routes, limits.answerTimeout()));
                    }
                });
        if (socket.sendBuffer() > 0) {
            b.childOption(ChannelOption.SO_SNDBUF, socket.sendBuffer());
        }
        if (socket.receiveBuffer() > 0) {
            b.childOption(ChannelOption.SO_RCVBUF, socket.receiveBuffer());
        }
        try {
            serverChannel = b.bind(new InetSocketAddress(config.bind(), config.port())).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            shutdownGroups();
            jobs.close();
            broker.close();
            throw e;
        }
        log.info("switchboard listening on {} ({} event loops on {}, fsync={}, data in {})",
                serverChannel.localAddress(), threads, engine.displayName(), config.fsync().name().toLowerCase(),
                config.dataDir().toAbsolutePath());
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

    public static SwitchboardServer start(ServerConfig config) throws InterruptedException {
        return new SwitchboardServer(config);
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public IoEngine engine() {
        return engine;
    }

    public Broker broker() {
        return broker;
    }

    public Delivery delivery() {
        return delivery;
    }

    public JobService jobs() {
        return jobs;
    }

    public ServerConfig config() {
        return config;
    }

    /** Blocks until the listening socket closes. */
    public void awaitClose() throws InterruptedException {
        serverChannel.closeFuture().sync();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        // Closed here, not by the loops' shutdown: on io_uring a close still in flight when its ring is torn down
        // can leave the socket open, and a client holding a long poll on it would wait forever.
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        shutdownGroups();
        jobs.close();
        broker.close();
        metrics.close();
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
