package dev.switchboard.h2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a server sent on a connection that upgraded to h2c, read the way RFC 9113 says a client must: the
 * {@code 101} head, then nothing but well-formed frames (known type, length within the default
 * SETTINGS_MAX_FRAME_SIZE, the server's SETTINGS first), each stream's headers decoded with HPACK and its DATA
 * joined. Any byte out of place is an {@link IllegalStateException} naming its offset and what stood there.
 */
final class H2cTranscript {
    private static final int MAX_FRAME = 16_384;
    private static final int DATA = 0x0, HEADERS = 0x1, SETTINGS = 0x4, CONTINUATION = 0x9;
    private static final int END_STREAM = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20;

    /** One stream's answer: its header blocks in order, its body, whether it ended. */
    static final class Stream {
        final List<Http2Headers> headers = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean ended;

        String status() {
            return headers.isEmpty() ? null : String.valueOf(headers.getFirst().status());
        }

        String text() {
            return body.toString(StandardCharsets.UTF_8);
        }
    }

    final String upgradeHead;
    final Map<Integer, Stream> streams = new LinkedHashMap<>();
    /** Bytes after the last whole frame: a frame the recording caught halfway. */
    final int trailing;

    private H2cTranscript(String upgradeHead, int trailing) {
        this.upgradeHead = upgradeHead;
        this.trailing = trailing;
    }

    static H2cTranscript parse(byte[] bytes) {
        int headEnd = indexOf(bytes, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (headEnd < 0 || !new String(bytes, 0, Math.min(bytes.length, 12), StandardCharsets.US_ASCII)
                .equals("HTTP/1.1 101")) {
            throw new IllegalStateException("not a 101 first: " + excerpt(bytes, 0));
        }
        String head = new String(bytes, 0, headEnd, StandardCharsets.US_ASCII);
        DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);
        Map<Integer, Stream> streams = new LinkedHashMap<>();
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        int blockStream = 0;
        boolean blockEnds = false;
        boolean first = true;
        int at = headEnd + 4;
        while (bytes.length - at >= 9) {
            int length = ((bytes[at] & 0xff) << 16) | ((bytes[at + 1] & 0xff) << 8) | (bytes[at + 2] & 0xff);
            int type = bytes[at + 3] & 0xff;
            int flags = bytes[at + 4] & 0xff;
            int stream = ((bytes[at + 5] & 0x7f) << 24) | ((bytes[at + 6] & 0xff) << 16)
                    | ((bytes[at + 7] & 0xff) << 8) | (bytes[at + 8] & 0xff);
            if (type > CONTINUATION || length > MAX_FRAME || (first && type != SETTINGS)) {
                throw new IllegalStateException("not a frame at offset " + at + " (type " + type + ", length "
                        + length + "): " + excerpt(bytes, at));
            }
            first = false;
            if (bytes.length - at - 9 < length) {
                break;
            }
            byte[] payload = Arrays.copyOfRange(bytes, at + 9, at + 9 + length);
            at += 9 + length;
            if (type == DATA) {
                Stream s = streams.computeIfAbsent(stream, id -> new Stream());
                int pad = (flags & PADDED) != 0 ? payload[0] & 0xff : -1;
                int from = pad >= 0 ? 1 : 0;
                s.body.write(payload, from, payload.length - from - Math.max(pad, 0));
                s.ended |= (flags & END_STREAM) != 0;
            } else if (type == HEADERS || type == CONTINUATION) {
                int from = 0;
                int pad = 0;
                if (type == HEADERS) {
                    blockStream = stream;
                    blockEnds = (flags & END_STREAM) != 0;
                    block.reset();
                    if ((flags & PADDED) != 0) {
                        pad = payload[0] & 0xff;
                        from = 1;
                    }
                    if ((flags & PRIORITY) != 0) {
                        from += 5;
                    }
                }
                block.write(payload, from, payload.length - from - pad);
                if ((flags & END_HEADERS) != 0) {
                    Stream s = streams.computeIfAbsent(blockStream, id -> new Stream());
                    s.headers.add(decode(hpack, blockStream, block.toByteArray()));
                    s.ended |= blockEnds;
                }
            }
        }
        H2cTranscript t = new H2cTranscript(head, bytes.length - at);
        t.streams.putAll(streams);
        return t;
    }

    private static Http2Headers decode(DefaultHttp2HeadersDecoder hpack, int stream, byte[] block) {
        ByteBuf buf = Unpooled.wrappedBuffer(block);
        try {
            return hpack.decodeHeaders(stream, buf);
        } catch (Http2Exception e) {
            throw new IllegalStateException("stream " + stream + ": undecodable header block", e);
        } finally {
            buf.release();
        }
    }

    private static int indexOf(byte[] bytes, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= bytes.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (bytes[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String excerpt(byte[] bytes, int at) {
        return new String(bytes, at, Math.min(80, bytes.length - at), StandardCharsets.ISO_8859_1)
                .replace("\r", "\\r").replace("\n", "\\n");
    }
}
