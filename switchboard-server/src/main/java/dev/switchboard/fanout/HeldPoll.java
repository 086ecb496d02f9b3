package dev.switchboard.fanout;

import dev.switchboard.xray.ConnectionStats;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A long poll's answer to come, which while it waits shows the x-ray where it waits: a held poll is a subscription
 * to its topic for as long as it is held, so the admin view lists it like an SSE or WebSocket one. Its feed may open
 * after the poll began ({@link Delivery#attachAsync}).
 */
final class HeldPoll extends CompletableFuture<ReadResult> implements ConnectionStats.SubscriptionSource {
    /** Set once, when its feed is open (on a shared engine, after the poll began). */
    private volatile TopicFeed feed;
    private volatile long from;
    private final CompletableFuture<Void> attached = new CompletableFuture<>();

    void attached(TopicFeed feed, long from) {
        this.from = from;
        this.feed = feed;
        attached.complete(null);
    }

    /** Completes once the poll knows its feed and where it starts; never when the poll failed before. */
    CompletableFuture<Void> whenAttached() {
        return attached;
    }

    /** The first offset it waits for; valid once {@link #whenAttached} completed. */
    long from() {
        return from;
    }

    @Override
    public List<ConnectionStats.SubscriptionView> subscriptions() {
        TopicFeed f = feed;
        return isDone() || f == null ? List.of()
                : List.of(new ConnectionStats.SubscriptionView(f.name(), from, f.lastOffset()));
    }
}
