package dev.switchboard.fanout;

import dev.switchboard.xray.ConnectionStats;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A long poll's answer to come, which while it waits shows the x-ray where it waits: a held poll is a subscription
 * to its topic for as long as it is held, so the admin view lists it like an SSE or WebSocket one.
 */
final class HeldPoll extends CompletableFuture<ReadResult> implements ConnectionStats.SubscriptionSource {
    private final TopicFeed feed;
    private final long from;

    HeldPoll(TopicFeed feed, long from) {
        this.feed = feed;
        this.from = from;
    }

    /** The first offset it waits for. */
    long from() {
        return from;
    }

    @Override
    public List<ConnectionStats.SubscriptionView> subscriptions() {
        return isDone() ? List.of()
                : List.of(new ConnectionStats.SubscriptionView(feed.name(), from, feed.lastOffset()));
    }
}
