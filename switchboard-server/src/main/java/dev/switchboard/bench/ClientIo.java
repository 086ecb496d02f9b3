package dev.switchboard.bench;

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

    private static ClientIo epoll() {
        return new ClientIo("epoll", EpollIoHandler.newFactory(), EpollSocketChannel.class);
    }

    private static ClientIo nio() {
        return new ClientIo("nio", NioIoHandler.newFactory(), NioSocketChannel.class);
    }
}
