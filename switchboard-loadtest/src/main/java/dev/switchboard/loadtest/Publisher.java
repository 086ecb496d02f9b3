package dev.switchboard.loadtest;

import io.netty.channel.ChannelPipeline;
import java.util.concurrent.CompletableFuture;

/**
 * One publisher connection, whatever the target. The benchmark connects it, waits for {@link #ready}, calls
 * {@link #start}, then waits for {@link #done}; the counters are read after {@code done}.
 */
interface Publisher {

    /** Adds the protocol's codecs, then the publisher's handler, to a new channel. */
    void initPipeline(ChannelPipeline pipeline);

    /** Completes once the connection may publish; at once for protocols without a handshake. */
    default CompletableFuture<Void> ready() {
        return CompletableFuture.completedFuture(null);
    }

    /** Starts publishing on the channel's event loop until {@code stopNanos} or {@code maxMessages} sent. */
    void start(long startNanos, long stopNanos, long maxMessages);

    /** Completes once publishing has stopped and every publish has been answered (or failed). */
    CompletableFuture<Void> done();

    /** Publishes the target acknowledged. */
    long acked();

    /** Acknowledged publishes sent after the warmup. */
    long measuredAcked();

    /** The lowest offset (or sequence number) acknowledged, {@link Long#MAX_VALUE} if none. */
    long firstOffset();

    /** The highest offset (or sequence number) acknowledged, {@link Long#MIN_VALUE} if none. */
    long lastOffset();
}
