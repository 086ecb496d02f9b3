package dev.switchboard.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** The client's event-loop engine: native epoll where it loads (fewer copies and syscalls), otherwise NIO. */
public record ClientIo(String name, IoHandlerFactory handlers, Class<? extends SocketChannel> channelType) {

    public enum Mode { AUTO, EPOLL, NIO }

    static ClientIo choose(Mode mode) {
        return switch (mode) {
            case AUTO -> Epoll.isAvailable() ? epoll() : nio();
            case EPOLL -> {
                Epoll.ensureAvailability();
                yield epoll();
            }
            case NIO -> nio();
        };
    }

    EventLoopGroup newGroup(String threadName, int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadName), handlers);
    }

    /** A client bootstrap on {@code loops}: no Nagle delay, connects bounded by {@code connectTimeout}. */
    Bootstrap bootstrap(EventLoopGroup loops, Duration connectTimeout) {
        return new Bootstrap()
                .group(loops)
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis());
    }

    /**
     * Opens one connection whose pipeline {@code init} sets up, and waits for it.
     *
     * @throws IOException if the server refuses it or does not answer within {@code timeout}
     */
    static Channel connect(Bootstrap bootstrap, ServerEndpoint server, Consumer<ChannelPipeline> init,
                           Duration timeout) throws IOException, InterruptedException {
        ChannelFuture connect = bootstrap.clone()
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        init.accept(ch.pipeline());
                    }
                })
                .connect(server.address());
        if (!connect.await(timeout.toMillis()) || !connect.isSuccess()) {
            Throwable cause = connect.cause();
            connect.channel().close();
            throw new IOException("cannot connect to " + server + ": "
                    + (cause == null ? "timed out" : cause.getMessage()), cause);
        }
        return connect.channel();
    }

    /** Stops {@code groups} and waits (bounded) until their threads have ended, so what they wrote is visible. */
    static void stop(Duration timeout, EventLoopGroup... groups) throws InterruptedException {
        for (EventLoopGroup group : groups) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        for (EventLoopGroup group : groups) {
            group.terminationFuture().await(timeout.toMillis());
        }
    }

    private static ClientIo epoll() {
        return new ClientIo("epoll", EpollIoHandler.newFactory(), EpollSocketChannel.class);
    }

    private static ClientIo nio() {
        return new ClientIo("nio", NioIoHandler.newFactory(), NioSocketChannel.class);
    }
}
