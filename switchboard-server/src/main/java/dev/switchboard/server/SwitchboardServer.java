package dev.switchboard.server;

import dev.switchboard.broker.Broker;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.config.SocketOptions;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.jobs.JobService;
import dev.switchboard.log.EmbeddedBroker;
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
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
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
        ConnectionPipeline pipeline = new ConnectionPipeline(ConnectionPipeline.routes(broker, delivery, jobs, config, metrics),
                limits, config.corsOrigins(), metrics);

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
                        pipeline.install(ch.pipeline());
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
