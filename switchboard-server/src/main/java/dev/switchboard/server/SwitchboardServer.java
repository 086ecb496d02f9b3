package dev.switchboard.server;

import dev.switchboard.auth.Authenticator;
import dev.switchboard.broker.Broker;
import dev.switchboard.codec.nats.NatsEndpoint;
import dev.switchboard.codec.proxy.Sidecar;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.SocketOptions;
import dev.switchboard.engine.redis.RedisBroker;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.groups.GroupService;
import dev.switchboard.jobs.JobService;
import dev.switchboard.presence.Presence;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.transport.IoEngine;
import dev.switchboard.transport.tls.ServerTls;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.xray.EventLoopLag;
import dev.switchboard.xray.StageTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server: opens the broker, binds the listening socket on the chosen event-loop engine and gives each connection
 * its {@link ConnectionPipeline}.
 */
public final class SwitchboardServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SwitchboardServer.class);

    private final ServerConfig config;
    private final PrometheusMeterRegistry metrics;
    private final Broker broker;
    private final Delivery delivery;
    private final JobService jobs;
    private final Presence presence;
    private final GroupService groups;
    private final ConnectionRegistry connections;
    /** Null in clear text. */
    private final ServerTls tls;
    /** Null without upstreams. */
    private final Sidecar sidecar;
    private final IoEngine engine;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    /** The NATS port's listening socket, or null when it is off. */
    private final Channel natsChannel;
    /**
     * Every open client connection, so that closing the server closes them while their event loops still run. A
     * connection joins when the listening socket accepts it, before it is registered with a loop or has a pipeline,
     * so one accepted just before {@link #close()} is not missed.
     */
    private final ChannelGroup clients = new DefaultChannelGroup("switchboard-clients", GlobalEventExecutor.INSTANCE);
    /** Set by {@link #close()} before it stops accepting: a connection accepted after that is closed at once. */
    private volatile boolean closing;

    private SwitchboardServer(ServerConfig config, SidecarConfig sidecarConfig) throws InterruptedException {
        this.config = config;
        Authenticator authenticator = ConnectionPipeline.authenticator(config);
        this.tls = openTls(config);
        this.metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        bindGcTotals(metrics);
        // Netty counts its own direct memory (it frees it without the JDK's cleaner, so the JVM's pools miss it).
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider netty) {
            Gauge.builder("switchboard.netty.direct.memory", netty, n -> n.metric().usedDirectMemory())
                    .baseUnit("bytes").description("Direct memory held by Netty's buffer allocator").register(metrics);
        }
        this.engine = IoEngine.select(config.io());
        StageTimer stages = new StageTimer(config.stageSample(), metrics);
        this.connections = new ConnectionRegistry(stages, engine.displayName(), metrics);
        this.broker = openEngine(config, metrics);
        Limits limits = config.limits();
        this.jobs = new JobService(broker, limits);
        Broker readers = jobs.readers(); // a job's topic is written out when first read
        this.delivery = new Delivery(readers, limits, metrics, stages);
        this.groups = new GroupService(readers, config.groups(), limits.maxPollResponseBytes(), metrics);
        this.presence = Presence.open(broker);
        this.sidecar = sidecarConfig.enabled() ? new Sidecar(sidecarConfig, engine.clientChannel(), connections,
                metrics, limits.maxWait(), limits.idleTimeout()) : null;
        ConnectionPipeline pipeline = new ConnectionPipeline(ConnectionPipeline.routes(readers, delivery, jobs,
                groups, presence, config, metrics, connections, authenticator, sidecar != null), limits,
                config.corsOrigins(), metrics, connections, config.protocols(), tls, sidecar);

        int threads = config.ioThreads() > 0 ? config.ioThreads() : Runtime.getRuntime().availableProcessors();
        bossGroup = engine.newGroup(1, "switchboard-accept");
        workerGroup = engine.newGroup(threads, "switchboard-io");
        EventLoopLag.watch(workerGroup, metrics);
        connections.watchCursorLag(workerGroup, metrics);
        SocketOptions socket = config.socket();
        ServerBootstrap b = new ServerBootstrap().group(bossGroup, workerGroup).channel(engine.serverChannel())
                .option(ChannelOption.SO_BACKLOG, socket.backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new AcceptedConnections())
                .childOption(ChannelOption.TCP_NODELAY, socket.tcpNoDelay())
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(socket.writeLowWaterMark(), socket.writeHighWaterMark()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        pipeline.install(ch.pipeline());
                    }
                });
        if (socket.sendBuffer() > 0) {
            b.childOption(ChannelOption.SO_SNDBUF, socket.sendBuffer());
        }
        if (socket.receiveBuffer() > 0) {
            b.childOption(ChannelOption.SO_RCVBUF, socket.receiveBuffer());
        }
        Channel http = null;
        try {
            http = b.bind(new InetSocketAddress(config.bind(), config.port())).sync().channel();
            natsChannel = config.natsEnabled() ? bindNats(b.clone(), pipeline, authenticator) : null;
            serverChannel = http;
        } catch (RuntimeException | InterruptedException e) {
            if (http != null) {
                http.close().syncUninterruptibly();
            }
            shutdownGroups();
            presence.close();
            closeJobsAndGroups();
            broker.close();
            connections.close();
            closeTls();
            throw e;
        }
        log.info("switchboard listening on {} ({}, {} event loops on {}, {})", serverChannel.localAddress(),
                protocolsText(config), threads, engine.displayName(), config.embedded() ? "fsync="
                        + config.fsync().name().toLowerCase() + ", data in " + config.dataDir().toAbsolutePath()
                        : "topics and jobs in Redis");
    }

    /**
     * The NATS port (docs/nats.md): the same event loops, io engine, socket options and accepted-connection
     * bookkeeping as HTTP, with the NATS handlers instead of HTTP's.
     */
    private Channel bindNats(ServerBootstrap b, ConnectionPipeline pipeline, Authenticator authenticator)
            throws InterruptedException {
        NatsEndpoint nats = new NatsEndpoint(jobs.readers(), delivery, jobs, config.limits(), authenticator,
                config.auth().jwt(), config.wsPingInterval());
        b.handler(new AcceptedConnections()).childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                pipeline.installNats(ch.pipeline(), nats);
            }
        });
        Channel ch = b.bind(new InetSocketAddress(config.bind(), config.natsPort())).sync().channel();
        log.info("NATS core protocol on {}", ch.localAddress());
        return ch;
    }

    /** The NATS port, or -1 when it is off. */
    public int natsPort() {
        return natsChannel == null ? -1 : ((InetSocketAddress) natsChannel.localAddress()).getPort();
    }

    /** Reads the certificate now, so that a server whose certificate would be refused does not start. */
    private static ServerTls openTls(ServerConfig config) {
        if (!config.protocols().tls()) {
            return null;
        }
        try {
            return ServerTls.open(config.protocols().tlsCert(), config.protocols().tlsKey(), config.protocols().http2());
        } catch (IOException e) {
            throw new UncheckedIOException("TLS: " + e.getMessage(), e);
        }
    }

    private String protocolsText(ServerConfig config) {
        String http = config.protocols().http2() ? "HTTP/2 and HTTP/1.1" : "HTTP/1.1";
        return tls == null ? http + " in clear text" : http + " over TLS (" + tls.providerName() + ")";
    }

    private void closeTls() {
        if (tls != null) {
            tls.close();
        }
    }

    /** Key prefix of every node's keys in a shared Redis. */
    private static final String REDIS_KEY_PREFIX = "switchboard:";

    private static Broker openEngine(ServerConfig config, PrometheusMeterRegistry metrics) {
        if (config.embedded()) {
            return EmbeddedBroker.open(config, metrics);
        }
        return RedisBroker.open(config.engine(), REDIS_KEY_PREFIX, config.redisWaitReplicas(), config.limits(),
                config.defaultRetention(), config.idempotencyTtl(), metrics);
    }

    private void closeJobsAndGroups() {
        jobs.close();
        groups.close();
    }

    /**
     * GC pauses as each collector's count and total time, read from the JVM when scraped. Micrometer's JvmGcMetrics
     * listens to every collection's notification instead, and with it bound the jobs load test
     * (JobsBenchmarkTest, claims of 4) completed no job in its measured second in 4 runs of 5 on a loaded 2-core
     * machine, against 3 of 3 without it.
     */
    private static void bindGcTotals(PrometheusMeterRegistry metrics) {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            FunctionCounter.builder("jvm.gc.collections", gc, GarbageCollectorMXBean::getCollectionCount)
                    .tag("gc", gc.getName()).description("Collections by this collector").register(metrics);
            FunctionCounter.builder("jvm.gc.collection.seconds", gc, b -> b.getCollectionTime() / 1000.0)
                    .tag("gc", gc.getName()).description("Time this collector spent collecting (pauses, for G1's"
                            + " young and mixed collections)").register(metrics);
        }
    }

    public static SwitchboardServer start(ServerConfig config) throws InterruptedException {
        return new SwitchboardServer(config, SidecarConfig.NONE);
    }

    /** A server in front of upstream HTTP servers (docs/sidecar.md). */
    public static SwitchboardServer start(ServerConfig config, SidecarConfig sidecar) throws InterruptedException {
        return new SwitchboardServer(config, sidecar);
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

    public ServerConfig config() {
        return config;
    }

    /** The port's TLS (its certificate, provider), empty in clear text. */
    public java.util.Optional<ServerTls> tls() {
        return java.util.Optional.ofNullable(tls);
    }

    /** Blocks until the listening socket closes. */
    public void awaitClose() throws InterruptedException {
        serverChannel.closeFuture().sync();
    }

    /**
     * Stops the server: every client connection is closed, and only then do the event loops stop, the jobs and the
     * log close. In order:
     * <ol>
     * <li>Stop accepting. Once the listening socket is closed, every connection it accepted is in {@link #clients}
     *     (on io_uring the close completes after the pending accept did); one accepted later closes itself.</li>
     * <li>Close every connection while its event loop runs, and wait until each close is done, however long that
     *     takes (a warning names the stragglers every {@link #CLOSE_WARNING_SECONDS} s). On io_uring a close is a
     *     request to the ring, done when its completion arrives; one still queued when the loop's ring is torn down
     *     never happens, and its client would wait forever on a socket that nobody owns any more.</li>
     * <li>A WebSocket is told first: a Close frame with 1001 (going away, RFC 6455 7.4.1), then the TCP close once
     *     that frame is written, or after {@link #GOING_AWAY_MILLIS} when the client does not read. Without it a
     *     client sees only the end of the stream, and the JDK's {@code java.net.http.WebSocket} loses an end of
     *     stream that arrives while its listener is still handling the previous message (it throws an
     *     InternalError inside its selector thread and never calls onClose or onError), so the subscriber never
     *     learns that it should reconnect.</li>
     * <li>Stop the event loops, then close the jobs and the log.</li>
     * </ol>
     */
    @Override
    public void close() {
        closing = true;
        serverChannel.close().syncUninterruptibly();
        if (natsChannel != null) {
            natsChannel.close().syncUninterruptibly();
        }
        closeClients();
        presence.close();
        if (sidecar != null) {
            sidecar.close(); // idle upstream connections; busy ones closed with their clients
        }
        shutdownGroups();
        closeJobsAndGroups();
        broker.close();
        connections.close();
        closeTls();
        metrics.close();
    }

    /** How long a WebSocket's Close frame may take to be written before its connection is closed regardless. */
    private static final long GOING_AWAY_MILLIS = 1000;
    private static final long CLOSE_WARNING_SECONDS = 10;

    /** Closes every client connection and waits until all are closed; see {@link #close()}. */
    private void closeClients() {
        // Rounds, for connections that joined while the previous one closed: accepted just as the listener closed.
        while (!clients.isEmpty()) {
            List<Channel> round = new ArrayList<>(clients);
            List<Future<Void>> closes = round.stream().map(SwitchboardServer::closeClient).toList();
            long started = System.nanoTime();
            try {
                for (Future<Void> closed : closes) {
                    while (!closed.await(CLOSE_WARNING_SECONDS, TimeUnit.SECONDS)) {
                        List<Channel> open = round.stream().filter(Channel::isOpen).toList();
                        log.warn("still closing {} client connections after {} s: {}", open.size(),
                                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), open);
                    }
                }
            } catch (InterruptedException e) {
                // Whoever interrupted us wants close() to end: stop waiting, and keep the interrupt for them.
                Thread.currentThread().interrupt();
                return;
            }
            round.forEach(clients::remove);
        }
    }

    /**
     * Closes one connection on its event loop (a WebSocket says going away first) and returns a future done when the
     * close is: on io_uring when the ring reports the socket closed, not only when the close was queued.
     */
    private static Future<Void> closeClient(Channel ch) {
        Promise<Void> done = GlobalEventExecutor.INSTANCE.newPromise();
        try {
            ch.eventLoop().execute(() -> {
                Runnable close = () -> ch.close().addListener(f -> done.trySuccess(null));
                if (!ch.isActive() || !isWebSocket(ch)) {
                    close.run();
                    return;
                }
                ChannelFuture sent = ch.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE,
                        "server shutting down"));
                ScheduledFuture<?> timeout = ch.eventLoop().schedule(close, GOING_AWAY_MILLIS, TimeUnit.MILLISECONDS);
                sent.addListener(f -> {
                    if (timeout.cancel(false)) {
                        close.run();
                    }
                });
            });
        } catch (RuntimeException e) {
            // Never registered with a loop: the acceptor failed to register it and closed it already.
            ch.unsafe().closeForcibly();
            done.trySuccess(null);
        }
        return done;
    }

    /** A connection past its WebSocket handshake: frames go out through a WebSocket encoder, no HTTP encoder left. */
    private static boolean isWebSocket(Channel ch) {
        return ch.pipeline().get(WebSocketFrameEncoder.class) != null
                && ch.pipeline().get(HttpServerCodec.class) == null
                && ch.pipeline().get(HttpResponseEncoder.class) == null;
    }

    /**
     * On the listening socket's pipeline, before Netty's acceptor: puts each accepted connection in {@link #clients}
     * once the acceptor has handed it to a worker loop, and closes it there if the server is already closing.
     */
    private final class AcceptedConnections extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = (Channel) msg;
            ctx.fireChannelRead(child); // the acceptor registers it with a worker loop (or closes it if that fails)
            if (child.isOpen()) {
                clients.add(child);
                if (closing) {
                    child.close();
                }
            }
        }
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
