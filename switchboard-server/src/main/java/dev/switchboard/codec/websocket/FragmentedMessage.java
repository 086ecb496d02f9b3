package dev.switchboard.codec.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

/**
 * A text or binary message arriving in fragments (RFC 6455 5.4): its parts so far, at most a limit in all. A session
 * holds one only while such a message is incomplete, so an idle connection keeps none (Netty's aggregator was a
 * handler per connection).
 */
final class FragmentedMessage {
    /** Parts kept apart before the buffer merges them into one (Netty's aggregator's default). */
    private static final int MAX_PARTS = 1024;

    private final boolean text;
    private final int maxBytes;
    private final CompositeByteBuf parts;

    /** @param first the message's first frame, not final; its content is retained here */
    FragmentedMessage(ByteBufAllocator alloc, WebSocketFrame first, int maxBytes) {
        this.text = first instanceof TextWebSocketFrame;
        this.maxBytes = maxBytes;
        this.parts = alloc.compositeBuffer(MAX_PARTS).addComponent(true, first.content().retain());
    }

    /** Adds the next part (retained); false when the message is now larger than allowed. */
    boolean add(ContinuationWebSocketFrame part) {
        parts.addComponent(true, part.content().retain());
        return parts.readableBytes() <= maxBytes;
    }

    boolean text() {
        return text;
    }

    /** The parts so far, end to end; valid until {@link #release()}. */
    ByteBuf bytes() {
        return parts;
    }

    void release() {
        parts.release();
    }
}
