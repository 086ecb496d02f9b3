package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The load tool's WebSocket client (RFC 6455), kept as cheap per message as the RESP and NATS decoders so that
 * the tool, not the protocol library, sets its cost: it sends the upgrade request, checks the {@code 101}, then
 * hands each text frame's payload on as a slice of the receive buffer (no frame objects, no copies). Pings are
 * answered here; a close frame ends the connection. The server sends whole frames, so a fragment is an error.
 */
final class WsClientCodec extends ByteToMessageDecoder {
    /** Fired once the server has accepted the upgrade. */
    static final Object HANDSHAKE_COMPLETE = new Object();
    private static final int MAX_HEAD_BYTES = 64 * 1024;
    private static final String STATUS_101 = "HTTP/1.1 101 ";
    private static final int OP_TEXT = 1;
    private static final int OP_CLOSE = 8;
    private static final int OP_PING = 9;
    private static final int OP_PONG = 10;

    /** A close frame the server sent: status code (or -1 when absent) and reason. */
    record Closed(int status, String reason) {
    }

    private final String host;
    private final String path;
    private final int maxPayload;
    private boolean upgraded;

    WsClientCodec(String host, String path, int maxPayload) {
        this.host = host;
        this.path = path;
        this.maxPayload = maxPayload;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        String request = "GET " + path + " HTTP/1.1\r\nHost: " + host
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                + Base64.getEncoder().encodeToString(key) + "\r\n\r\n";
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), request));
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!upgraded && !readHandshake(ctx, in)) {
            return;
        }
        while (in.readableBytes() >= 2) {
            int start = in.readerIndex();
            int b0 = in.getUnsignedByte(start);
            int b1 = in.getUnsignedByte(start + 1);
            if ((b1 & 0x80) != 0) {
                throw new CorruptedFrameException("the server masked a frame");
            }
            int header = 2;
            long length = b1 & 0x7F;
            if (length == 126) {
                header = 4;
                if (in.readableBytes() < header) {
                    return;
                }
                length = in.getUnsignedShort(start + 2);
            } else if (length == 127) {
                header = 10;
                if (in.readableBytes() < header) {
                    return;
                }
                length = in.getLong(start + 2);
            }
            if (length < 0 || length > maxPayload) {
                throw new TooLongFrameException("frame of " + length + " bytes");
            }
            if (in.readableBytes() < header + length) {
                return;
            }
            int payload = start + header;
            in.readerIndex(payload + (int) length);
            int opcode = b0 & 0x0F;
            if ((b0 & 0x80) == 0 || opcode == 0) {
                throw new CorruptedFrameException("fragmented frame (the server sends whole messages)");
            }
            switch (opcode) {
                case OP_TEXT -> out.add(in.retainedSlice(payload, (int) length));
                case OP_PING -> ctx.writeAndFlush(maskedFrame(ctx.alloc(), 0x8A, in, payload, (int) length));
                case OP_PONG -> { }
                case OP_CLOSE -> {
                    int status = length >= 2 ? in.getUnsignedShort(payload) : -1;
                    String reason = length > 2
                            ? in.toString(payload + 2, (int) length - 2, StandardCharsets.UTF_8) : "";
                    out.add(new Closed(status, reason));
                    return;
                }
                default -> throw new CorruptedFrameException("unexpected opcode " + opcode);
            }
        }
    }

    private boolean readHandshake(ChannelHandlerContext ctx, ByteBuf in) {
        int end = Ascii.indexOf(in, in.readerIndex(), in.writerIndex(), "\r\n\r\n");
        if (end < 0) {
            if (in.readableBytes() > MAX_HEAD_BYTES) {
                throw new TooLongFrameException("upgrade response head over " + MAX_HEAD_BYTES + " bytes");
            }
            return false;
        }
        if (!Ascii.regionMatches(in, in.readerIndex(), in.readerIndex() + STATUS_101.length(), STATUS_101)) {
            int lineEnd = Ascii.indexOf(in, in.readerIndex(), end, "\r\n");
            throw new CorruptedFrameException("upgrade refused: "
                    + in.toString(in.readerIndex(), lineEnd - in.readerIndex(), StandardCharsets.US_ASCII));
        }
        in.readerIndex(end + 4);
        upgraded = true;
        ctx.fireUserEventTriggered(HANDSHAKE_COMPLETE);
        return true;
    }

    /** A client's frame must be masked (RFC 6455 section 5.3); control payloads are at most 125 bytes. */
    private static ByteBuf maskedFrame(ByteBufAllocator alloc, int b0, ByteBuf src, int from, int length) {
        ByteBuf frame = alloc.buffer(6 + length);
        frame.writeByte(b0).writeByte(0x80 | length);
        int mask = ThreadLocalRandom.current().nextInt();
        frame.writeInt(mask);
        for (int i = 0; i < length; i++) {
            frame.writeByte(src.getByte(from + i) ^ (mask >>> (8 * (3 - (i & 3)))));
        }
        return frame;
    }

    /** Sends a close frame with status 1000 (normal closure), then closes the connection. */
    static ChannelFuture closeNormally(Channel channel) {
        ByteBuf normalClosure = Unpooled.buffer(2).writeShort(1000);
        return channel.writeAndFlush(maskedFrame(channel.alloc(), 0x88, normalClosure, 0, 2))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
