package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import dev.switchboard.wire.SseEvent;
import dev.switchboard.wire.SseParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;

/**
 * Subscribes with {@code GET /v1/topics/TOPIC/events?from=next}, or another path that answers an SSE stream of the
 * topic (an upstream's hold in sidecar mode, Pushpin's). Ready once {@code 200} headers arrive; then Netty's HTTP codec
 * leaves the pipeline and the body's bytes, unframed by {@link ChunkedBody} when chunked, are fed to an
 * {@link SseParser} as they come (every event is still parsed and checked; only the per-chunk objects go). Heartbeat
 * comments are skipped by the parser. Switchboard's events carry their offset as {@code id}; a peer's (Pushpin) carry
 * sequenced payloads instead; a stream over a pattern ({@code /v1/events}) carries the envelope, whose {@code offset}
 * and {@code data} are read.
 */
final class SseSubscriber extends Subscriber<Object> implements SseParser.Listener {
    private static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;

    private final ServerEndpoint server;
    private final String path;
    private final SseParser parser = new SseParser(MAX_EVENT_BYTES, this);
    private final Events events;
    private byte[] copy = new byte[16 * 1024];
    /** The body's chunked framing, once the head said so; null while the head is awaited or for a plain body. */
    private ChunkedBody chunked;

    /** What a message event carries. */
    enum Events {
        /** The offset as {@code id}, the payload as data: a topic's own stream. */
        OFFSET_ID,
        /** Sequenced payloads ({@link Payload#encodeSequenced}): a peer's stream. */
        SEQUENCED,
        /** The envelope as data, the stream's cursor as {@code id}: a stream over many topics or a pattern. */
        ENVELOPE
    }

    SseSubscriber(Measurements measurements, ServerEndpoint server, String topic) {
        this(measurements, server, server.eventsPath(topic), Events.OFFSET_ID, 1);
    }

    /**
     * @param publishers for {@link Events#SEQUENCED}: how many publishers number their own messages, each checked on
     *                   its own; else 1 (Switchboard's offsets)
     */
    SseSubscriber(Measurements measurements, ServerEndpoint server, String path, Events events, int publishers) {
        super(Object.class, measurements, publishers);
        this.server = server;
        this.path = path;
        this.events = events;
    }

    @Override
    protected void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new HttpClientCodec(), this);
    }

    @Override
    protected ChannelFuture closeGracefully(Channel channel) {
        return channel.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
        request.headers()
                .set(HttpHeaderNames.HOST, server.host())
                .set(HttpHeaderNames.ACCEPT, HttpHeaderValues.TEXT_EVENT_STREAM)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        ctx.writeAndFlush(request);
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse response) {
            if (!response.status().equals(HttpResponseStatus.OK)) {
                refused(new IOException("GET " + path + " answered " + response.status()));
                ctx.close();
                return;
            }
            subscribed();
            if (HttpUtil.isTransferEncodingChunked(response)) {
                chunked = new ChunkedBody(new ChunkedBody.Sink() {
                    @Override
                    public void data(ByteBuf buf, int from, int length) {
                        feed(buf, from, length);
                    }

                    @Override
                    public void end() {
                        closingBecause("server ended the event stream");
                        ctx.close();
                    }
                });
            }
            // The rest of the stream is read from the raw bytes; what the codec has buffered comes next as a ByteBuf.
            ctx.pipeline().remove(HttpClientCodec.class);
        } else if (msg instanceof ByteBuf body) {
            if (chunked != null) {
                chunked.feed(body);
            } else {
                feed(body, body.readerIndex(), body.readableBytes());
            }
        }
    }

    /** A direct buffer (what socket reads give) goes through one array reused for the stream's life. */
    private void feed(ByteBuf buf, int from, int length) {
        if (buf.hasArray()) {
            parser.feed(buf.array(), buf.arrayOffset() + from, length);
            return;
        }
        if (copy.length < length) {
            copy = new byte[Math.max(length, copy.length * 2)];
        }
        buf.getBytes(from, copy, 0, length);
        parser.feed(copy, 0, length);
    }

    @Override
    public void onEvent(SseEvent event) {
        try {
            if (!event.typeIs("message")) {
                measurements.error(ErrorKind.PROTOCOL, "unexpected event " + event.type() + ": " + event.data());
                return;
            }
            switch (events) {
                case SEQUENCED -> Payload.deliverSequenced(event.dataArray(), event.dataLength(), this);
                case ENVELOPE -> {
                    ByteBuf json = Unpooled.wrappedBuffer(event.dataArray(), 0, event.dataLength());
                    delivered(JsonFields.longValue(json, "offset"),
                            Payload.sentNanos(json, JsonFields.valueIndex(json, "data") + 1)); // past the quote
                }
                case OFFSET_ID -> delivered(Ascii.parseLong(event.idArray(), 0, event.idLength()),
                        Payload.sentNanos(event.dataArray(), event.dataLength()));
            }
        } catch (NumberFormatException e) {
            measurements.error(ErrorKind.PROTOCOL, e.getMessage() + " in event id " + event.id() + ": " + event.data());
        }
    }
}
