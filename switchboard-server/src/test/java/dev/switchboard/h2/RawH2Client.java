package dev.switchboard.h2;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/2 client in clear text (prior knowledge) on Netty's frame codec, where the test decides flow control: a
 * stream opened with {@code consume = false} never returns window to the server, so the server may send it no more
 * than its initial window (set small here), as a browser tab that stopped reading would. The connection's window is
 * opened wide, so one stalled stream cannot use up the connection's.
 */
final class RawH2Client implements AutoCloseable {
    /** What one stream received. */
    static final class Received {
        final StringBuffer text = new StringBuffer();
        final AtomicLong bytes = new AtomicLong();
        volatile String status;
        volatile boolean reset;
        volatile boolean ended;
        final boolean consume;
        volatile Http2FrameStream stream;

        Received(boolean consume) {
            this.consume = consume;
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Http2FrameCodec codec;
    private final Frames frames = new Frames();
    private final Map<Integer, Received> streams = new ConcurrentHashMap<>();
    private final String authority;
    volatile Http2Settings serverSettings;

    RawH2Client(int port, int initialStreamWindow) throws InterruptedException {
        this.authority = "localhost:" + port;
        this.codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().initialWindowSize(initialStreamWindow)).build();
        this.channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(codec, frames);
                    }
                }).connect("127.0.0.1", port).sync().channel();
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(64 * 1024 * 1024)).sync(); // the connection's window
    }

    /** Opens a GET stream; {@code consume}: whether the client returns window for what it reads. */
    Received get(String path, boolean consume) throws InterruptedException {
        DefaultHttp2Headers headers = new DefaultHttp2Headers();
        headers.method("GET").path(path).scheme("http").authority(authority).add("accept", "text/event-stream");
        return open(headers, true, consume);
    }

    /** Opens a WebSocket on a stream by extended CONNECT (RFC 8441); the stream stays open for {@link #send}. */
    Received webSocket(String path) throws InterruptedException {
        DefaultHttp2Headers headers = new DefaultHttp2Headers();
        headers.method("CONNECT").path(path).scheme("http").authority(authority)
                .set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), "websocket").add("sec-websocket-version", "13");
        return open(headers, false, true);
    }

    private Received open(DefaultHttp2Headers headers, boolean endStream, boolean consume) throws InterruptedException {
        Received r = new Received(consume);
        channel.eventLoop().submit(() -> {
            Http2FrameStream stream = frames.newStream();
            r.stream = stream;
            channel.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream).stream(stream))
                    .addListener(f -> streams.put(stream.id(), r));
        }).sync();
        return r;
    }

    /** Sends bytes on an open stream as one DATA frame. */
    void send(Received r, byte[] bytes) throws InterruptedException {
        channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes)).stream(r.stream)).sync();
    }

    boolean isOpen() {
        return channel.isActive();
    }

    private final class Frames extends Http2ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object frame) {
            try {
                read(ctx, frame);
            } finally {
                ReferenceCountUtil.release(frame);
            }
        }

        private void read(ChannelHandlerContext ctx, Object frame) {
            if (frame instanceof Http2SettingsFrame s) {
                serverSettings = s.settings();
            } else if (frame instanceof Http2HeadersFrame h) {
                Received r = streams.get(h.stream().id());
                if (r != null) {
                    r.status = String.valueOf(h.headers().status());
                    r.ended |= h.isEndStream();
                }
            } else if (frame instanceof Http2DataFrame d) {
                Received r = streams.get(d.stream().id());
                if (r == null) {
                    return;
                }
                ByteBuf content = d.content();
                r.bytes.addAndGet(content.readableBytes());
                r.text.append(content.toString(StandardCharsets.UTF_8));
                r.ended |= d.isEndStream();
                if (r.consume && d.initialFlowControlledBytes() > 0) {
                    ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()));
                }
            } else if (frame instanceof Http2ResetFrame reset) {
                Received r = streams.get(reset.stream().id());
                if (r != null) {
                    r.reset = true;
                }
            }
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
