package dev.switchboard.fanout;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.TopicState;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

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

    /** Starts following; existing matching topics are told before this returns, from their current end. */
    static PatternFollow start(Broker broker, Predicate<String> matches, Listener listener) {
        Set<String> announced = ConcurrentHashMap.newKeySet();
        // Listening before listing: a topic created in between is announced, not lost.
        Broker.Watch watch = broker.watchCreations(topic -> {
            if (matches.test(topic)) {
                announced.add(topic);
                listener.follow(topic, new StartPosition.AtOffset(1));
            }
        });
        for (TopicState t : broker.topics()) {
            if (matches.test(t.name()) && !announced.contains(t.name())) {
                listener.follow(t.name(), new StartPosition.AtOffset(t.lastOffset() + 1));
            }
        }
        return new PatternFollow(watch);
    }

    /** Stops hearing of new topics; subscriptions already made are the listener's to end. */
    public void cancel() {
        creations.cancel();
    }
}
