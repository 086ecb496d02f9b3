package dev.switchboard.codec.http;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A client's request that an upstream answered with {@code Switchboard-Hold} (docs/sidecar.md): the sidecar turns it
 * into a request to Switchboard's own SSE or poll endpoint. The upstream already decided who may hold on
 * {@link #topic()}, so the router grants exactly that, whatever the server's authentication; only the sidecar makes
 * these (a client cannot send one). The upstream's body, if any, is sent before a stream's first event.
 */
public final class HeldRequest extends DefaultFullHttpRequest {
    private final String topic;
    private final byte[] prelude;

    /** @param clientHeaders the client's request headers (Host, Origin and Last-Event-ID count here) */
    public HeldRequest(String uri, HttpHeaders clientHeaders, String topic, byte[] prelude) {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        headers().set(clientHeaders);
        this.topic = topic;
        this.prelude = prelude;
    }

    public String topic() {
        return topic;
    }

    /** What the upstream answered before holding, sent first (a stream only); may be empty. */
    public byte[] prelude() {
        return prelude;
    }
}
