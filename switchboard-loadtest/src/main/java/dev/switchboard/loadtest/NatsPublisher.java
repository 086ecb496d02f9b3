package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import java.util.ArrayDeque;

/**
 * Publishes to NATS with {@code PUB topic n}. Core NATS does not answer a publish, so a {@code PING} follows
 * each batch of messages: the server handles a connection's input in order, so its {@code PONG} confirms the
 * whole batch. The connection is ready once the server has answered the {@code CONNECT}'s first {@code PING}.
 */
final class NatsPublisher extends PeerPublisher<NatsDecoder.Frame> {
    static final byte[] CONNECT = ascii("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n");
    static final byte[] PING = ascii("PING\r\n");
    static final byte[] PONG = ascii("PONG\r\n");
    static final byte[] CRLF = ascii("\r\n");

    private final byte[] prefix;
    /** Messages each outstanding PING confirms; 0 for the handshake's. */
    private final ArrayDeque<Integer> pings = new ArrayDeque<>();

    NatsPublisher(Measurements measurements, String topic, Payload payload, int index, int window,
                  double ratePerSecond) {
        super(NatsDecoder.Frame.class, measurements, payload, index, window, ratePerSecond);
        this.prefix = ascii("PUB " + topic + " " + payload.size() + "\r\n");
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new NatsDecoder(), this);
    }

    @Override
    protected void writeMessage(ChannelHandlerContext ctx, ByteBuf payload) {
        writePub(ctx, prefix, payload);
    }

    /** Writes (without flushing) a {@code PUB} whose line up to and including its CRLF is {@code prefix}. */
    static void writePub(ChannelHandlerContext ctx, byte[] prefix, ByteBuf payload) {
        ByteBuf command = ctx.alloc().buffer(prefix.length + payload.readableBytes() + CRLF.length);
        command.writeBytes(prefix).writeBytes(payload).writeBytes(CRLF);
        ctx.write(command, ctx.voidPromise());
    }

    @Override
    protected void afterBatch(ChannelHandlerContext ctx, int messages) {
        pings.add(messages);
        ctx.write(ctx.alloc().buffer(PING.length).writeBytes(PING), ctx.voidPromise());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, NatsDecoder.Frame frame) {
        switch (frame) {
            case NatsDecoder.Info info -> {
                if (!ready.isDone() && pings.isEmpty()) {
                    pings.add(0);
                    ctx.write(ctx.alloc().buffer(CONNECT.length).writeBytes(CONNECT), ctx.voidPromise());
                    ctx.writeAndFlush(ctx.alloc().buffer(PING.length).writeBytes(PING), ctx.voidPromise());
                }
            }
            case NatsDecoder.Pong pong -> {
                Integer messages = pings.poll();
                if (messages == null) {
                    measurements.error(ErrorKind.PUBLISH, "PONG without a PING");
                    return;
                }
                for (int i = 0; i < messages; i++) {
                    confirmed();
                }
                ready.complete(null);
                fill();
            }
            case NatsDecoder.Ping ping -> ctx.writeAndFlush(ctx.alloc().buffer(PONG.length).writeBytes(PONG),
                    ctx.voidPromise());
            case NatsDecoder.Err err -> {
                measurements.error(ErrorKind.PUBLISH, "NATS -ERR " + err.message());
                ready.completeExceptionally(new java.io.IOException("NATS refused the publisher: " + err.message()));
            }
            case NatsDecoder.Ok ok -> {
            }
            case NatsDecoder.Msg msg -> measurements.error(ErrorKind.PUBLISH, "unexpected MSG on the publisher");
        }
    }
}
