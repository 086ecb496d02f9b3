package dev.switchboard.fanout;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.TopicState;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Follows every topic whose name a pattern matches: the ones stored when it starts and each one created later, as
 * the engine announces it ({@link Broker#watchCreations}). It tells its {@link Listener} which topic to subscribe
 * to and where to start; subscribing (and the limits on how many) is the transport's, like any other subscription.
 * The pattern is a predicate over names, so any syntax (NATS subjects, auth's {@code *}/{@code >} patterns) fits.
 *
 * <p>A topic created while the follow starts may be both listed and announced: it is told once. A topic deleted and
 * created again is told again, from its first offset.
 */
public final class PatternFollow {
    /** Told of each topic to follow; called on the starting thread or the engine's, so it must not block. */
    public interface Listener {
        /** @param from where to start: the topic's end when it was already there, its first offset when new */
        void follow(String topic, StartPosition from);
    }

    private final Broker.Watch creations;

    private PatternFollow(Broker.Watch creations) {
        this.creations = creations;
    }

    /**
     * Starts following without blocking the caller on the engine: on one shared by nodes (Redis), listening for new
     * topics (a subscription, the node's first) waits on {@code opener} and the listing is a round trip. The existing
     * topics are told, from their current end, before the returned future completes (on the engine's thread).
     */
    static CompletableFuture<PatternFollow> startAsync(Broker broker, Executor opener, Predicate<String> matches,
                                                       Listener listener) {
        Set<String> announced = ConcurrentHashMap.newKeySet();
        Supplier<PatternFollow> listening = () -> new PatternFollow(watchCreations(broker, matches, listener,
                announced));
        CompletableFuture<PatternFollow> started = broker.shared() ? CompletableFuture.supplyAsync(listening, opener)
                : CompletableFuture.completedFuture(listening.get());
        return started.thenCompose(follow -> broker.topicsAsync().thenApply(topics -> {
            tellExisting(topics, matches, listener, announced);
            return follow;
        }).whenComplete((f, e) -> {
            if (e != null) {
                follow.cancel();
            }
        }));
    }

    // Listening before listing: a topic created in between is announced, not lost.
    private static Broker.Watch watchCreations(Broker broker, Predicate<String> matches, Listener listener,
                                               Set<String> announced) {
        return broker.watchCreations(topic -> {
            if (matches.test(topic)) {
                announced.add(topic);
                listener.follow(topic, new StartPosition.AtOffset(1));
            }
        });
    }

    private static void tellExisting(List<TopicState> topics, Predicate<String> matches, Listener listener,
                                     Set<String> announced) {
        for (TopicState t : topics) {
            if (matches.test(t.name()) && !announced.contains(t.name())) {
                listener.follow(t.name(), new StartPosition.AtOffset(t.lastOffset() + 1));
            }
        }
    }

    /** Stops hearing of new topics; subscriptions already made are the listener's to end. */
    public void cancel() {
        creations.cancel();
    }
}
