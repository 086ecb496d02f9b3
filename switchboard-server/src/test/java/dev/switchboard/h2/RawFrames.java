package dev.switchboard.h2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * HTTP/2 frames on a plain socket, for a client that does not follow the server's settings: Netty's frame writer
 * encodes them (HPACK included) into bytes, and frames read back are told apart by their 9-byte header only.
 */
final class RawFrames {
    static final int TYPE_HEADERS = 0x1;
    static final int TYPE_RST_STREAM = 0x3;
    static final int TYPE_SETTINGS = 0x4;
    static final int FLAG_ACK = 0x1;

    /** One frame read back: its type, flags, stream and payload. */
    record Frame(int type, int flags, int stream, byte[] payload) {
    }

    private RawFrames() {}

    /** The client's connection preface and an empty SETTINGS frame. */
    static byte[] preface() {
        ByteBuf out = Unpooled.buffer();
        out.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        writeHeader(out, 0, TYPE_SETTINGS, 0, 0);
        return bytes(out);
    }

    static byte[] settingsAck() {
        ByteBuf out = Unpooled.buffer();
        writeHeader(out, 0, TYPE_SETTINGS, FLAG_ACK, 0);
        return bytes(out);
    }

    /** A GET on {@code stream} (odd), ending the request. */
    static byte[] get(int stream, String authority, String path) {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = ch.pipeline().firstContext();
        DefaultHttp2Headers headers = new DefaultHttp2Headers();
        headers.method("GET").path(path).scheme("http").authority(authority);
        new DefaultHttp2FrameWriter().writeHeaders(ctx, stream, headers, 0, true, ch.newPromise());
        ch.flush();
        ByteBuf out = Unpooled.buffer();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.writeBytes(b);
            b.release();
        }
        ch.finishAndReleaseAll();
        return bytes(out);
    }

    static Frame read(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        int length = (data.readUnsignedByte() << 16) | data.readUnsignedShort();
        int type = data.readUnsignedByte();
        int flags = data.readUnsignedByte();
        int stream = data.readInt() & 0x7fffffff;
        byte[] payload = data.readNBytes(length);
        return new Frame(type, flags, stream, payload);
    }

    private static void writeHeader(ByteBuf out, int length, int type, int flags, int stream) {
        out.writeMedium(length).writeByte(type).writeByte(flags).writeInt(stream);
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a);
        b.release();
        return a;
    }
}
