package dev.switchboard.transport;

import dev.switchboard.config.IoMode;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * The event-loop engine: io_uring (completion-based: the kernel tells us a read or write is done), epoll (readiness:
 * it tells us a socket can be read or written) or NIO (the JDK's portable selector). {@code auto} takes the first that
 * loads here, in that order.
 */
public record IoEngine(IoMode mode, IoHandlerFactory handlerFactory, Class<? extends ServerChannel> serverChannel,
                       Class<? extends SocketChannel> clientChannel) {

    public static IoEngine select(IoMode requested) {
        return switch (requested) {
            case AUTO -> IoUring.isAvailable() ? ioUring() : Epoll.isAvailable() ? epoll() : nio();
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("io_uring is not available here: " + IoUring.unavailabilityCause());
                }
                yield ioUring();
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("epoll is not available here: " + Epoll.unavailabilityCause());
                }
                yield epoll();
            }
            case NIO -> nio();
        };
    }

    public MultiThreadIoEventLoopGroup newGroup(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new io.netty.util.concurrent.DefaultThreadFactory(name, true),
                handlerFactory);
    }

    public String displayName() {
        return mode.name().toLowerCase();
    }

    /**
     * Each connection keeps a receive in flight, and a fan-out burst completes a send per subscriber, so thousands of
     * connections per loop can complete more entries at once than the default completion queue holds; an overflowed
     * queue makes the kernel buffer completions and Netty log warnings. A larger completion queue costs 16 bytes an
     * entry per loop.
     */
    private static final int IO_URING_SUBMISSION_ENTRIES = 4096;
    private static final int IO_URING_COMPLETION_ENTRIES = 65536;

    private static IoEngine ioUring() {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig().setRingSize(IO_URING_SUBMISSION_ENTRIES)
                .setCqSize(IO_URING_COMPLETION_ENTRIES);
        return new IoEngine(IoMode.IO_URING, IoUringIoHandler.newFactory(config), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class);
    }

    private static IoEngine epoll() {
        return new IoEngine(IoMode.EPOLL, EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class);
    }

    private static IoEngine nio() {
        return new IoEngine(IoMode.NIO, NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class);
    }
}
