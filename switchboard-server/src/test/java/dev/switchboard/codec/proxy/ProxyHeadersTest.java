package dev.switchboard.codec.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

/** Hop-by-hop headers go by lookups now, not by a lowercased copy of every name: the same ones must go. */
class ProxyHeadersTest {
    @Test
    void hopByHopHeadersAndTheOnesConnectionNamesAreRemovedInAnyCase() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Connection", "keep-alive, X-Secret")
                .add("connection", "Upgrade")
                .add("x-secret", "1")
                .add("KEEP-ALIVE", "timeout=5")
                .add("Proxy-Connection", "keep-alive")
                .add("Proxy-Authorization", "Basic x")
                .add("Proxy-Authenticate", "Basic")
                .add("TE", "trailers")
                .add("Trailer", "X-Sum")
                .add("Transfer-Encoding", "chunked")
                .add("Upgrade", "websocket")
                .add("Expect", "100-continue")
                .add("X-HTTP2-Stream-Id", "3")
                .add("x-http2-scheme", "https")
                .add("X-Http2", "kept: not the prefix")
                .add("Accept", "text/plain")
                .add("Cookie", "a=1")
                .add("Cookie", "b=2");
        ProxyHeaders.stripHopByHop(h);
        assertThat(h.names()).containsExactlyInAnyOrder("X-Http2", "Accept", "Cookie");
        assertThat(h.getAll("Cookie")).containsExactly("a=1", "b=2");
    }

    @Test
    void theUpstreamHeadCarriesTheForwardingHeadersAndLeavesTheClientsAlone() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                "http://example.com/a/b?x=1", new DefaultHttpHeaders().add("Host", "example.com")
                .add("X-Forwarded-For", "10.0.0.1").add("Connection", "close"));
        HttpRequest up = ProxyHeaders.upstreamRequest(request, "127.0.0.1", AsciiString.of("http"), "00-x", false);
        assertThat(up.uri()).isEqualTo("/a/b?x=1");
        assertThat(up.headers().get("x-forwarded-for")).isEqualTo("10.0.0.1, 127.0.0.1");
        assertThat(up.headers().get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(up.headers().get("X-Forwarded-Host")).isEqualTo("example.com");
        assertThat(up.headers().get("traceparent")).isEqualTo("00-x");
        assertThat(up.headers().contains("Connection")).isFalse();
        assertThat(request.headers().get("Connection")).isEqualTo("close");
        assertThat(request.headers().contains("traceparent")).isFalse();
    }
}
