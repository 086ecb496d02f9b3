package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
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

    /** Offsets {@code [from, first)} of {@code topic} were dropped by retention before this reader got them. */
    void gap(String topic, long from, long first);

    /** The topic was deleted; the subscription has ended. */
    void topicDeleted(String topic);

    void flush();
}
