package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;

/**
 * Where a subscription delivers: one push transport (WebSocket, SSE) on one connection. Every method is called on
 * {@link #executor()}, never blocks, and writes without flushing; {@link #flush()} ends a burst.
 */
public interface DeliverySink {
    /** The event loop of the connection; all calls happen here. */
    EventExecutor executor();

    /** Transport name for counts ("ws", "sse"). */
    String transport();

    /** Whether the connection can take more now (the kernel buffer and our outbound buffer are below the high mark). */
    boolean isWritable();

    void deliver(Message message);

    /**
     * The wire form this sink writes every message in, when it is one other sinks share (then it is handed runs of
     * messages through {@link #deliverShared}); null when its bytes are its own (a cursor in each event, a stream
     * that ends on some message), and it gets each message through {@link #deliver}.
     */
    default SharedEncoding sharedEncoding() {
        return null;
    }

    /**
     * Writes {@code messages} consecutive messages as {@code bytes}, their {@link #sharedEncoding()} end to end; the
     * sink owns this reference (a duplicate sharing memory with other sinks) and must write or release it.
     */
    default void deliverShared(ByteBuf bytes, int messages) {
        bytes.release();
        throw new UnsupportedOperationException("a sink without a shared encoding");
    }

    /** Offsets {@code [from, first)} of {@code topic} were dropped by retention before this reader got them. */
    void gap(String topic, long from, long first);

    /** The topic was deleted; the subscription has ended. */
    void topicDeleted(String topic);

    void flush();
}
