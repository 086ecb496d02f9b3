package dev.switchboard.fanout;

import dev.switchboard.xray.ConnectionStats;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * A long poll's answer to come, which while it waits shows the x-ray where it waits: a held poll is a subscription
 * to its topic for as long as it is held, so the admin view lists it like an SSE or WebSocket one. Its feed may open
 * after the poll began ({@link Delivery#attachAsync}).
 */
final class HeldPoll extends CompletableFuture<ReadResult>
        implements ConnectionStats.SubscriptionSource, Runnable {
    /** Set once, when its feed is open (on a shared engine, after the poll began). */
    private volatile TopicFeed feed;
    private volatile long from;
    /** Made when first asked for: only a poll over many topics asks, and most polls attach at once. */
    private CompletableFuture<Void> attached;
    /** While parked on its feed: the waiter and the wait's end, which the poll's end takes away. */
    private volatile TopicFeed.Waiter waiter;
    private volatile ScheduledFuture<?> waitEnd;

    synchronized void attached(TopicFeed feed, long from) {
        this.from = from;
        this.feed = feed;
        if (attached != null) {
            attached.complete(null);
        }
    }

    /** Completes once the poll knows its feed and where it starts; never when the poll failed before. */
    synchronized CompletableFuture<Void> whenAttached() {
        if (attached == null) {
            attached = feed != null ? CompletableFuture.completedFuture(null) : new CompletableFuture<>();
        }
        return attached;
    }

    /**
     * Parks it on its feed until it is done. Its end takes the waiter off and cancels the wait's end through
     * {@link #unpark}, which the poll's one completion callback calls; a poll done meanwhile is unparked here.
     */
    void park(TopicFeed.Waiter w, ScheduledFuture<?> end) {
        waitEnd = end; // before the waiter: whoever sees the waiter sees its wait's end
        waiter = w;
        feed.addWaiter(w);
        if (isDone()) {
            unpark();
        }
    }

    /** The wait ended with nothing new: an empty answer, to go on from where it waited. */
    @Override
    public void run() {
        complete(new ReadResult(feed.name(), List.of(), from, false));
    }

    /** Takes it off its feed, if it was parked there; may run twice. */
    void unpark() {
        TopicFeed.Waiter w = waiter;
        if (w != null) {
            feed.removeWaiter(w);
            waitEnd.cancel(false);
        }
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
