package dev.switchboard.engine.redis;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.wire.ApiException;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's watchers, woken through Redis sharded pub/sub: the node subscribes to a topic's channel while it has
 * watchers of it, and only then. Every change script announces what it changed ({@code a epoch first last kept
 * time}, {@code t epoch kept}, {@code d epoch}); appended messages travel with their announcement when they are
 * small (up to 64 KiB a commit), else one thread here reads them from the stream; it tells the watchers, so each
 * node gets a message from Redis once however many of its connections want it. What is announced while that thread
 * works is handled together next: one read per topic for all of it, each commit still told as its own.
 *
 * <p>A channel (re)subscribed (at first, or after Redis came back) starts a catch-up from what the watchers last
 * heard, so changes announced while the node was away are heard too. On Redis Cluster, a master that hands a slot to
 * another unsubscribes the slot's channels itself: a channel still watched is subscribed again, where the slot is
 * now, and caught up.
 */
final class RedisWatchers {
    private static final Logger log = LoggerFactory.getLogger(RedisWatchers.class);
    private static final long SUBSCRIBE_SECONDS = 5;
    /** Announcements handled together at most: their messages are read into memory at once. */
    private static final int MOST_HEARD_AT_ONCE = 256;

    /** A topic's epoch and positions. */
    record Position(String epoch, long first, long last) {}

    /** The watchers of one topic and what they have heard; changed on the dispatcher thread only. */
    private static final class Group {
        final String topic;
        final List<TopicWatcher> watchers = new CopyOnWriteArrayList<>();
        /** The topic they watch, null until it exists. */
        String epoch;
        long first = 1;
        long last;
        /** The first subscription's confirmation is still to come: it needs no catch-up, the add read the positions. */
        boolean firstSubscription = true;

        Group(String topic) {
            this.topic = topic;
        }
    }

    private final RedisKeys keys;
    private final RedisBroker broker;
    private final StatefulRedisPubSubConnection<String, byte[]> pubsub;
    private final ExecutorService dispatcher;
    private volatile Thread dispatcherThread;
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    /** Changes announced and not yet handled, in the order heard. */
    private final Queue<Heard> heard = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final List<Consumer<String>> creations = new CopyOnWriteArrayList<>();
    /** Dispatcher only. */
    private boolean creationsSubscribed;
    private volatile boolean closing;

    /**
     * One change announced on a topic's channel: its words, and for appended messages whose payloads travelled
     * with the announcement, those messages (else null: they are read from the stream).
     */
    private record Heard(String topic, String[] change, NavigableMap<Long, Message> inline) {
        /** Parses an announcement (common.lua, {@code announce}). */
        static Heard parse(String topic, byte[] message) {
            int lineEnd = indexOf(message, (byte) '\n');
            String[] words = new String(message, 0, lineEnd < 0 ? message.length : lineEnd, StandardCharsets.UTF_8)
                    .split(" ");
            if (lineEnd < 0) {
                return new Heard(topic, words, null);
            }
            long offset = Long.parseLong(words[2]);
            long time = Long.parseLong(words[5]);
            NavigableMap<Long, Message> inline = new TreeMap<>();
            int at = lineEnd + 1;
            for (int i = 6; i + 1 < words.length; i += 2) {
                int typeLength = Integer.parseInt(words[i]);
                int payloadLength = Integer.parseInt(words[i + 1]);
                String type = new String(message, at, typeLength, StandardCharsets.UTF_8);
                byte[] payload = Arrays.copyOfRange(message, at + typeLength, at + typeLength + payloadLength);
                at += typeLength + payloadLength;
                inline.put(offset, new Message(topic, offset, time, type, payload));
                offset++;
            }
            return new Heard(topic, Arrays.copyOf(words, 6), inline);
        }

        private static int indexOf(byte[] bytes, byte b) {
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == b) {
                    return i;
                }
            }
            return -1;
        }
    }

    RedisWatchers(StatefulRedisPubSubConnection<String, byte[]> pubsub, RedisKeys keys, RedisBroker broker) {
        this.keys = keys;
        this.broker = broker;
        this.dispatcher = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("switchboard-redis-watchers")
                .daemon(true).factory());
        dispatcher.execute(() -> dispatcherThread = Thread.currentThread());
        this.pubsub = pubsub;
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String channel, byte[] message) {
                heard.add(Heard.parse(keys.topicOf(channel), message));
                if (draining.compareAndSet(false, true)) {
                    dispatch(RedisWatchers.this::handleHeard);
                }
            }

            @Override
            public void message(String channel, byte[] message) {
                if (channel.equals(keys.creations())) {
                    String topic = new String(message, StandardCharsets.UTF_8);
                    // On the dispatcher, behind the changes heard before it: never ahead of a watcher's news.
                    dispatch(() -> creations.forEach(c -> tellCreated(c, topic)));
                }
            }

            @Override
            public void ssubscribed(String channel, long count) {
                String topic = keys.topicOf(channel);
                dispatch(() -> catchUp(topic));
            }

            @Override
            public void sunsubscribed(String channel, long count) {
                // Not this node's doing when the topic is still watched (its confirmation then catches up).
                String topic = keys.topicOf(channel);
                broker.subscribeAgain(pubsub, channel, () -> !closing && groups.containsKey(topic));
            }
        });
    }

    private void dispatch(Runnable work) {
        try {
            dispatcher.execute(() -> Handoff.batch(() -> {
                try {
                    work.run();
                } catch (ApiException e) {
                    // Redis went away while reading: the catch-up after it is back delivers what was missed.
                    log.debug("watchers could not read from Redis: {}", e.getMessage());
                }
            }));
        } catch (RejectedExecutionException e) {
            log.debug("a change heard after the engine closed");
        }
    }

    /**
     * Subscribes to creations with the first listener and keeps the subscription (Lettuce restores it after a
     * reconnect; topics created while Redis was away are not told). A listener is told only of topics created after
     * this call began: one created before is the caller's listing's to find, started after what it held.
     */
    Broker.Watch addCreations(Consumer<String> listener) {
        boolean subscribedNow = onDispatcher(() -> {
            if (creationsSubscribed) {
                return false;
            }
            pubsub.async().subscribe(keys.creations()).get(SUBSCRIBE_SECONDS, TimeUnit.SECONDS);
            creationsSubscribed = true;
            creations.add(listener); // nothing announced before the subscription is heard on it
            return true;
        });
        if (!subscribedNow) {
            // Announcements of topics created before now may still be on the subscription's connection, or queued
            // for the dispatcher: Redis answers a PING there after them, and the listener joins behind them.
            broker.awaitRedis(() -> pubsub.async().ping().toCompletableFuture());
            onDispatcher(() -> creations.add(listener));
        }
        return () -> creations.remove(listener);
    }

    private void tellCreated(Consumer<String> listener, String topic) {
        try {
            listener.accept(topic);
        } catch (RuntimeException e) {
            log.error("a creation listener failed on topic {}", topic, e);
        }
    }

    Broker.Watch add(String topic, TopicWatcher watcher) {
        Group group = onDispatcher(() -> {
            Group g = groups.get(topic);
            if (g == null) {
                g = new Group(topic);
                // Subscribed before the positions are read: a change after this point is announced, and one that
                // is both announced and already in the positions is heard once.
                pubsub.async().ssubscribe(keys.channel(topic)).get(SUBSCRIBE_SECONDS, TimeUnit.SECONDS);
                Position p = broker.reads.position(topic);
                if (p != null) {
                    g.epoch = p.epoch();
                    g.first = p.first();
                    g.last = p.last();
                }
                groups.put(topic, g);
            }
            g.watchers.add(watcher);
            return g;
        });
        return () -> {
            if (group.watchers.remove(watcher)) {
                dispatch(() -> unsubscribeIfUnwatched(group));
            }
        };
    }

    private void unsubscribeIfUnwatched(Group g) {
        if (g.watchers.isEmpty() && groups.remove(g.topic, g)) {
            pubsub.async().sunsubscribe(keys.channel(g.topic));
        }
    }

    /** Handles every change announced so far, reading each topic's new messages at once. */
    private void handleHeard() {
        draining.set(false); // before taking them: what is heard from now on schedules another run
        List<Heard> batch = new ArrayList<>();
        for (Heard h; batch.size() < MOST_HEARD_AT_ONCE && (h = heard.poll()) != null; ) {
            batch.add(h);
        }
        if (!heard.isEmpty() && draining.compareAndSet(false, true)) {
            dispatch(this::handleHeard); // the rest, after these
        }
        Map<String, long[]> ranges = new HashMap<>();
        for (Heard h : batch) {
            if (h.change()[0].equals("a") && h.inline() == null && groups.containsKey(h.topic())) {
                long from = Long.parseLong(h.change()[2]);
                long to = Long.parseLong(h.change()[3]);
                ranges.merge(h.topic(), new long[] {from, to},
                        (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
            }
        }
        Map<String, NavigableMap<Long, Message>> read = broker.reads.ranges(ranges);
        for (Heard h : batch) {
            heard(h.topic(), h.change(), h.inline() != null ? h.inline() : read.get(h.topic()));
        }
    }

    /** One change announced by a script; {@code read} holds its messages (read with others), or null. */
    private void heard(String topic, String[] change, NavigableMap<Long, Message> read) {
        Group g = groups.get(topic);
        if (g == null) {
            return;
        }
        String epoch = change[1];
        switch (change[0]) {
            case "a" -> {
                if (replacedOrDeleted(g, epoch)) {
                    return;
                }
                deliver(g, epoch, Long.parseLong(change[2]), Long.parseLong(change[3]), Long.parseLong(change[4]),
                        read);
            }
            case "t" -> {
                if (epoch.equals(g.epoch) && Long.parseLong(change[2]) > g.first) {
                    g.first = Long.parseLong(change[2]);
                    tell(g, w -> w.truncated(g.first));
                    tell(g, TopicWatcher::committed);
                }
            }
            case "d" -> {
                if (epoch.equals(g.epoch)) {
                    deleted(g);
                }
            }
            default -> log.warn("unknown change '{}' announced on topic {}", String.join(" ", change), topic);
        }
    }

    /** After a (re)subscription: whatever changed since the watchers last heard. */
    private void catchUp(String topic) {
        Group g = groups.get(topic);
        if (g == null) {
            return;
        }
        if (g.firstSubscription) {
            // Catching up here would merge the commits since the add into one: their announcements follow.
            g.firstSubscription = false;
            return;
        }
        Position p = broker.reads.position(topic);
        if (p == null) {
            if (g.epoch != null) {
                deleted(g);
            }
            return;
        }
        if (!replacedOrDeleted(g, p.epoch())) {
            deliver(g, p.epoch(), g.last + 1, p.last(), p.first(), null);
        }
    }

    /** The watchers knew another topic of this name: it was deleted, maybe while the node was away. */
    private boolean replacedOrDeleted(Group g, String epoch) {
        if (g.epoch != null && !g.epoch.equals(epoch)) {
            deleted(g);
            return true;
        }
        return false;
    }

    private void deliver(Group g, String epoch, long from, long to, long kept, NavigableMap<Long, Message> read) {
        g.epoch = epoch;
        boolean changed = false;
        long start = Math.max(from, g.last + 1);
        if (to >= start) {
            if (read != null) {
                read.subMap(start, true, to, true).values().forEach(m -> tell(g, w -> w.appended(m)));
            } else {
                broker.reads.range(g.topic, start, to, m -> tell(g, w -> w.appended(m)));
            }
            g.last = to;
            changed = true;
        }
        if (kept > g.first) {
            g.first = kept;
            tell(g, w -> w.truncated(kept));
            changed = true;
        }
        if (changed) {
            tell(g, TopicWatcher::committed);
        }
    }

    private void deleted(Group g) {
        groups.remove(g.topic, g);
        pubsub.async().sunsubscribe(keys.channel(g.topic));
        tell(g, TopicWatcher::deleted);
        g.watchers.clear();
    }

    private void tell(Group g, Consumer<TopicWatcher> call) {
        for (TopicWatcher w : g.watchers) {
            try {
                call.accept(w);
            } catch (RuntimeException e) {
                if (closing) {
                    log.debug("a watcher of topic {} failed while the engine closed", g.topic, e);
                } else {
                    log.error("a watcher of topic {} failed", g.topic, e);
                }
            }
        }
    }

    /** Runs on the dispatcher (at once when already there: a watcher may watch another topic) and waits. */
    private <T> T onDispatcher(Callable<T> work) {
        if (Thread.currentThread() == dispatcherThread) {
            try {
                return work.call();
            } catch (Exception e) {
                throw RedisBroker.unavailable(e);
            }
        }
        Future<T> f;
        try {
            f = dispatcher.submit(work);
        } catch (RejectedExecutionException e) {
            throw ApiException.unavailable("the engine is closed");
        }
        try {
            return f.get(SUBSCRIBE_SECONDS * 2, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw RedisBroker.unavailable(e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw RedisBroker.unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RedisBroker.unavailable(e);
        }
    }

    /**
     * Subscribes again to each watched topic whose slot {@code changedMaster} (a failover); the confirmation catches
     * the topic's watchers up on what the new master stored meanwhile.
     */
    void subscribeAgainWhereMastersChanged(IntPredicate changedMaster) {
        for (String topic : groups.keySet()) {
            String channel = keys.channel(topic);
            if (changedMaster.test(SlotHash.getSlot(channel))) {
                broker.subscribeAgain(pubsub, channel, () -> !closing && groups.containsKey(topic));
            }
        }
    }

    void close() {
        closing = true;
        dispatcher.shutdownNow();
        try {
            dispatcher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pubsub.close();
    }
}
