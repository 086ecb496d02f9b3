package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Publishes to a NATS JetStream stream over the core protocol: {@code PUB subject inbox n}, and JetStream answers on
 * the inbox with {@code {"stream":..,"seq":N}} once the message is stored. The connection subscribes to its own
 * inbox in the handshake; the one that {@code createsStream} then creates the file-storage stream with a request on
 * {@code $JS.API.STREAM.CREATE.<name>} and is ready on its answer, the others on the handshake's {@code PONG}.
 */
final class JetStreamPublisher extends PeerPublisher<NatsDecoder.Frame> {
    private final String inbox = "_INBOX." + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    private final String createReply = inbox + ".create";
    private final String ackReply = inbox + ".ack";
    private final String stream;
    private final String subject;
    private final boolean createsStream;
    private final byte[] prefix;
    private boolean handshakeSent;

    /** @param createsStream whether this connection creates the stream (one per run, before the others start) */
    JetStreamPublisher(Measurements measurements, String subject, Payload payload, int index, boolean createsStream) {
        super(NatsDecoder.Frame.class, measurements, payload, index, 1, 0);
        this.subject = subject;
        this.stream = streamName(subject);
        this.createsStream = createsStream;
        this.prefix = ascii("PUB " + subject + " " + ackReply + " " + payload.size() + "\r\n");
    }

    /** Stream names may not hold the subject's dots. */
    static String streamName(String subject) {
        return subject.replace('.', '_');
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new NatsDecoder(), this);
    }

    @Override
    protected void writeMessage(ChannelHandlerContext ctx, ByteBuf payload) {
        NatsPublisher.writePub(ctx, prefix, payload);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, NatsDecoder.Frame frame) {
        switch (frame) {
            case NatsDecoder.Info info -> {
                if (!handshakeSent) {
                    handshakeSent = true;
                    handshake(ctx);
                }
            }
            case NatsDecoder.Msg msg -> answered(msg);
            case NatsDecoder.Pong pong -> {
                if (!createsStream) {
                    ready.complete(null);
                }
            }
            case NatsDecoder.Ping ping -> ctx.writeAndFlush(Unpooled.wrappedBuffer(NatsPublisher.PONG),
                    ctx.voidPromise());
            case NatsDecoder.Err err -> {
                measurements.error(ErrorKind.PUBLISH, "NATS -ERR " + err.message());
                ready.completeExceptionally(new IOException("NATS refused the publisher: " + err.message()));
            }
            case NatsDecoder.Ok ok -> {
            }
        }
    }

    private void handshake(ChannelHandlerContext ctx) {
        ctx.write(Unpooled.wrappedBuffer(NatsPublisher.CONNECT), ctx.voidPromise());
        ctx.write(Unpooled.wrappedBuffer(ascii("SUB " + inbox + ".* 1\r\n")), ctx.voidPromise());
        if (createsStream) {
            byte[] config = ascii("{\"name\":\"" + stream + "\",\"subjects\":[\"" + subject
                    + "\"],\"storage\":\"file\"}");
            ctx.write(Unpooled.wrappedBuffer(ascii("PUB $JS.API.STREAM.CREATE." + stream + " " + createReply + " "
                    + config.length + "\r\n")), ctx.voidPromise());
            ctx.write(Unpooled.wrappedBuffer(config), ctx.voidPromise());
            ctx.write(Unpooled.wrappedBuffer(NatsPublisher.CRLF), ctx.voidPromise());
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(NatsPublisher.PING), ctx.voidPromise());
    }

    private void answered(NatsDecoder.Msg msg) {
        ByteBuf json = Unpooled.wrappedBuffer(msg.payload());
        String text = new String(msg.payload(), StandardCharsets.UTF_8);
        boolean error = JsonFields.valueIndex(json, "error") >= 0;
        if (msg.subject().equals(createReply)) {
            if (error) {
                ready.completeExceptionally(new IOException("JetStream refused to create stream " + stream + ": "
                        + text));
            } else {
                ready.complete(null);
            }
        } else if (!msg.subject().equals(ackReply)) {
            measurements.error(ErrorKind.PROTOCOL, "MSG on unexpected subject " + msg.subject());
        } else if (error) {
            refused("JetStream refused a publish: " + text);
            fill();
        } else {
            try {
                confirmed(JsonFields.longValue(json, "seq"));
            } catch (NumberFormatException e) {
                refused("JetStream acknowledgement without a seq: " + text);
            }
            fill();
        }
    }
}
