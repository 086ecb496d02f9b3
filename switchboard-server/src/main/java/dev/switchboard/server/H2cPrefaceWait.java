package dev.switchboard.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import java.nio.channels.ClosedChannelException;

/**
 * Right after an h2c upgrade, between the socket and the HTTP/2 codec: holds what the server writes after the
 * {@code 101} and its SETTINGS (the upgrading request's answer on stream 1) until the client's first HTTP/2 bytes, its
 * connection preface, have arrived.
 *
 * <p>The JDK's HttpClient, which offers h2c on every first clear-text request (HTTP/2 being its default), loses bytes
 * when the socket read that brings it the {@code 101} brings more than its 16 KiB read buffer: the read's buffers are
 * handed to its HTTP/1.1 reader one by one, and a worker thread that has parsed the {@code 101} from the first already
 * moves what follows it to the new HTTP/2 connection; the later buffers of the same read reach the HTTP/1.1 reader
 * after that and are dropped (JDK 25, {@code Http1AsyncReceiver}). Stream 1's answer then misses bytes in its middle:
 * the client waits for the rest for good (H2cLargeAnswerTest's hang), or reads body bytes as a frame header
 * ({@code ProtocolException: Frame type(…) length(…)}). The client sends its preface only after it switched readers,
 * so nothing sent after it arrives can fall into that read. The cost is at most one round trip on the first answer of
 * an upgraded connection.
 *
 * <p>Held writes count toward the connection's writability ({@link PendingWriteQueue}), so a large answer stops at the
 * high-water mark as it would in the socket's buffer. A conforming client always sends bytes after a {@code 101}: its
 * preface, and an ACK of the server's SETTINGS, which go out at once.
 */
final class H2cPrefaceWait extends ChannelDuplexHandler {
    private PendingWriteQueue held;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        held = new PendingWriteQueue(ctx);
        ctx.flush(); // the server's SETTINGS, written before this handler came: the client may wait for them
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        held.add(msg, promise);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ctx.pipeline().remove(this); // the held answer goes out before anything this read makes the server write
        ctx.fireChannelRead(msg);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            held.removeAndWriteAll();
            ctx.flush();
        } else {
            held.removeAndFailAll(new ClosedChannelException());
        }
    }
}
