package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests through the server's HTTP/1.1 decoder and its body aggregator, one read per {@link #read}: a body that
 * comes whole becomes the request's content as it is, one that comes in pieces is aggregated, and both give the same
 * request.
 */
class BodyAggregatorTest {
    private static final int LIMIT = 16;
    private final EmbeddedChannel channel = new EmbeddedChannel(new HttpRequestDecoder(), new BodyAggregator(LIMIT));

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void aBodyThatComesWholeIsTheRequestsContentWithoutACompositeBuffer() {
        read("POST /v1/topics/t/messages HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        FullHttpRequest request = channel.readInbound();
        try {
            assertRequest(request, "POST", "hello");
            assertThat(request.content()).isNotInstanceOf(CompositeByteBuf.class);
        } finally {
            request.release();
        }
    }

    @Test
    void aBodyInPiecesOrAfterItsHeadIsTheSameRequest() {
        read("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhe");
        assertThat((Object) channel.readInbound()).isNull();
        read("llo");
        assertNext("POST", "hello");
        read("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
        read("hello");
        assertNext("POST", "hello");
        read("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n");
        assertNext("POST", "hello");
    }

    @Test
    void pipelinedRequestsKeepTheirOrderAndBodies() {
        read("POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\none"
                + "GET /a HTTP/1.1\r\n\r\n"
                + "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nthr");
        assertNext("POST", "one");
        assertNext("GET", ""); // no body: Content-Length 0, as the aggregator says
        assertThat((Object) channel.readInbound()).isNull();
        read("ee");
        assertNext("POST", "three");
    }

    @Test
    void aWholeBodyOverTheLimitIsStillRefused() {
        read("POST /a HTTP/1.1\r\nContent-Length: 17\r\n\r\n" + "x".repeat(17));
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(channel.outboundMessages()).isNotEmpty(); // the 413
    }

    private void read(String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
    }

    private void assertNext(String method, String body) {
        FullHttpRequest request = channel.readInbound();
        assertThat(request).isNotNull();
        try {
            assertRequest(request, method, body);
        } finally {
            request.release();
        }
    }

    private static void assertRequest(FullHttpRequest request, String method, String body) {
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.method().name()).isEqualTo(method);
        assertThat(request.content().toString(StandardCharsets.US_ASCII)).isEqualTo(body);
        assertThat(request.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(body.length());
        assertThat(request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
    }
}
