package dev.switchboard.codec.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.wire.ApiException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Building JSON responses and the docs/api.md error shape {@code {"error":{"code","message"}}}. */
public final class HttpResponses {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final DefaultHttpHeadersFactory UNVALIDATED = DefaultHttpHeadersFactory.headersFactory()
            .withValidation(false);
    /** Content lengths of the small answers, as header values made once (a 201 is ~100 bytes). */
    private static final AsciiString[] SMALL_LENGTHS = new AsciiString[1024];

    private HttpResponses() {}

    public static FullHttpResponse json(ByteBufAllocator alloc, HttpResponseStatus status, Object body) {
        ByteBuf buf = alloc.buffer();
        try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
            MAPPER.writeValue((java.io.OutputStream) out, body);
        } catch (IOException e) {
            buf.release();
            throw new IllegalStateException("cannot encode response", e);
        }
        return withBody(status, buf, HttpHeaderValues.APPLICATION_JSON);
    }

    public static FullHttpResponse withBody(HttpResponseStatus status, ByteBuf body, CharSequence contentType) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return r;
    }

    /**
     * A response whose headers the server writes itself (constants, numbers, or request values the decoder validated
     * already, as CORS echoes {@code Origin}): no second validation of each header, and no trailers object, which a
     * response of known length never sends. For the answers on the hot path (a publish's 201, a poll's 200).
     */
    public static FullHttpResponse ownHeaders(HttpResponseStatus status, ByteBuf body, CharSequence contentType) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body, new OwnHeaders(),
                EmptyHttpHeaders.INSTANCE);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, lengthText(body.readableBytes()));
        return r;
    }

    /**
     * Unvalidated headers hashed into 4 buckets, not the default 16: an answer has 2-7 headers, and the bucket
     * array was the largest object of a publish's 201.
     */
    private static final class OwnHeaders extends DefaultHttpHeaders {
        OwnHeaders() {
            super(UNVALIDATED.getNameValidator(), UNVALIDATED.getValueValidator(), 4);
        }
    }

    private static CharSequence lengthText(int length) {
        if (length >= SMALL_LENGTHS.length) {
            return Integer.toString(length);
        }
        AsciiString text = SMALL_LENGTHS[length];
        if (text == null) { // a race makes the same immutable value twice, which is harmless
            text = new AsciiString(Integer.toString(length));
            SMALL_LENGTHS[length] = text;
        }
        return text;
    }

    public static FullHttpResponse empty(HttpResponseStatus status) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return r;
    }

    public static FullHttpResponse error(ByteBufAllocator alloc, ApiException e) {
        HttpResponseStatus status = e instanceof UnsupportedMediaType
                ? HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE : HttpStatuses.of(e.code());
        FullHttpResponse r = error(alloc, status, e.code().wire(), e.getMessage());
        if (e instanceof MethodNotAllowed m) {
            r.headers().set(HttpHeaderNames.ALLOW, m.allowed());
        } else if (e instanceof UnsupportedMediaType u) {
            r.headers().set("Accept-Post", u.accepted());
        }
        return r;
    }

    public static FullHttpResponse error(ByteBufAllocator alloc, HttpResponseStatus status, String code,
                                         String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", code);
        inner.put("message", message);
        FullHttpResponse r = json(alloc, status, Map.of("error", inner));
        if (status.code() == 503 || status.code() == 429) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        } else if (status.code() == 401) {
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"switchboard\""); // RFC 6750 3
        }
        return r;
    }

    /** For a response after which the server closes the connection (errors in the request's framing). */
    public static FullHttpResponse closing(FullHttpResponse r) {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }
}
