package dev.switchboard.engine.redis;

import dev.switchboard.broker.LiveExchange;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.Base16;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live messages among the nodes on one Redis (docs/cluster.md, "Live messages across nodes"). Every message is one script
 * ({@code live-send.lua}) that picks one node for each group with members matching the subject and announces the
 * message, with those picks, on one sharded channel ({@code <prefix>{:live}:c}) that every listening node subscribes
 * to; which node has members of which group is a hash in the same slot ({@code <prefix>{:live}:groups}), each field
 * valid 30 s and renewed every 10 s by its node, so a node that dies stops being picked within 30 s.
 *
 * <p>Bounds: a node has at most {@link #MAX_BYTES_IN_FLIGHT} bytes of live messages sent and not yet answered by
 * Redis; past that it drops what it sends, as nats-server drops messages to a slow consumer. A node that reads its
 * channel too slowly is disconnected by Redis at its pub/sub output buffer limit and drops what it missed.
 *
 * <p>Threads: any; heard messages are handed to the receiver on Lettuce's event loop.
 */
final class RedisLive implements LiveExchange {
    private static final Logger log = LoggerFactory.getLogger(RedisLive.class);
    static final long MAX_BYTES_IN_FLIGHT = 16L * 1024 * 1024;
    private static final long MEMBERSHIP_MILLIS = 30_000;
    private static final long HEARTBEAT_MILLIS = 10_000;
    /** Stands for "no reply subject" in a frame: no subject is a lone dot. */
    private static final String NO_REPLY = ".";

    private final RedisBroker engine;
    private final RedisClusterAsyncCommands<String, byte[]> redis;
    private final Consumer<Heard> receiver;
    private final String node = UUID.randomUUID().toString().replace("-", "");
    private final String groupsKey;
    private final String channel;
    private final Script send = new Script("live-send.lua");
    private final Script join = new Script("live-join.lua");
    private final AtomicLong bytesInFlight = new AtomicLong();
    private final Counter dropped;
    /** Opened with the exchange (when the NATS port starts), so that a SUB on an event loop never waits for it. */
    private final StatefulRedisPubSubConnection<String, byte[]> pubsub;
    /** Guarded by this: the counts of listeners and of members per field. */
    private int listeners;
    private final Map<String, Integer> memberships = new HashMap<>();
    /** Completes once the channel is subscribed; sends wait for it, so replies to them are heard. */
    private volatile CompletableFuture<Void> subscribed = CompletableFuture.completedFuture(null);

    RedisLive(RedisBroker engine, Consumer<Heard> receiver, MeterRegistry metrics) {
        this.engine = engine;
        this.redis = engine.redis;
        this.receiver = receiver;
        this.groupsKey = engine.keys.liveGroups();
        this.channel = engine.keys.liveChannel();
        this.dropped = Counter.builder("switchboard.live.dropped")
                .description("Live (never stored) messages this node dropped: too many bytes in flight to Redis, "
                        + "or Redis away").register(metrics);
        this.pubsub = engine.connectPubSub();
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String from, byte[] message) {
                if (from.equals(channel)) {
                    heard(message);
                }
            }

            @Override
            public void sunsubscribed(String from, long count) {
                // A slot that moved to another master: still wanted, it is subscribed where it is now.
                engine.subscribeAgain(pubsub, channel, RedisLive.this::isListening);
            }
        });
        engine.timer.scheduleWithFixedDelay(this::renewMemberships, HEARTBEAT_MILLIS, HEARTBEAT_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletableFuture<Set<String>> send(String subject, String replyTo, byte[] headers, byte[] payload) {
        long size = subject.length() + payload.length + (headers == null ? 0 : headers.length);
        if (bytesInFlight.addAndGet(size) > MAX_BYTES_IN_FLIGHT || engine.isClosed()) {
            bytesInFlight.addAndGet(-size);
            dropped.increment();
            return CompletableFuture.completedFuture(Set.of());
        }
        List<byte[]> args = RedisKeys.args(node, subject, replyTo == null ? NO_REPLY : replyTo,
                ThreadLocalRandom.current().nextInt(1 << 20), headers == null ? new byte[0] : headers, payload);
        return subscribed.exceptionally(e -> null)
                .thenCompose(ready -> send.<List<Object>>run(groupsKey, args.toArray(byte[][]::new)))
                .handle((mine, failure) -> {
                    bytesInFlight.addAndGet(-size);
                    if (failure != null) {
                        dropped.increment();
                        log.debug("a live message on {} was dropped: {}", subject, failure.getMessage());
                        return Set.<String>of();
                    }
                    Set<String> groups = new HashSet<>();
                    mine.forEach(g -> groups.add(RedisBroker.text(g)));
                    return groups;
                });
    }

    @Override
    public synchronized CompletableFuture<Void> listen() {
        if (listeners++ == 0) {
            subscribed = pubsub.async().ssubscribe(channel).toCompletableFuture().whenComplete((ok, failure) -> {
                if (failure != null) {
                    // Redis away: Lettuce restores only subscriptions it made, so this one is tried again.
                    engine.subscribeAgain(pubsub, channel, this::isListening);
                }
            }).thenApply(ok -> null);
        }
        return subscribed;
    }

    @Override
    public synchronized void unlisten() {
        if (listeners > 0 && --listeners == 0) {
            pubsub.async().sunsubscribe(channel);
            subscribed = CompletableFuture.completedFuture(null);
        }
    }

    /** Subscribes again to the live channel, while listening, when its slot {@code changedMaster}. */
    void subscribeAgainWhereMastersChanged(IntPredicate changedMaster) {
        if (changedMaster.test(SlotHash.getSlot(channel))) {
            engine.subscribeAgain(pubsub, channel, this::isListening);
        }
    }

    private synchronized boolean isListening() {
        return listeners > 0;
    }

    @Override
    public synchronized CompletableFuture<Void> join(String pattern, String group) {
        String field = field(pattern, group);
        if (memberships.merge(field, 1, Integer::sum) > 1) {
            return CompletableFuture.completedFuture(null);
        }
        return join.run(groupsKey, RedisKeys.args(MEMBERSHIP_MILLIS, field).toArray(byte[][]::new))
                .thenApply(n -> null);
    }

    @Override
    public synchronized void leave(String pattern, String group) {
        String field = field(pattern, group);
        if (memberships.computeIfPresent(field, (f, n) -> n == 1 ? null : n - 1) == null) {
            redis.hdel(groupsKey, field);
        }
    }

    private String field(String pattern, String group) {
        return group + " " + node + " " + pattern;
    }

    /** Pushes this node's memberships' validity on; Redis was maybe restarted empty, so they are written whole. */
    private synchronized void renewMemberships() {
        if (memberships.isEmpty()) {
            return;
        }
        List<Object> args = new ArrayList<>(List.of(MEMBERSHIP_MILLIS));
        args.addAll(memberships.keySet());
        join.run(groupsKey, RedisKeys.args(args.toArray()).toArray(byte[][]::new)).exceptionally(e -> {
            log.debug("live memberships not renewed: {}", e.getMessage());
            return null;
        });
    }

    /** A frame of live-send.lua: {@code sender subject reply headerLength payloadLength [group node]…\n} + bytes. */
    private void heard(byte[] frame) {
        int lineEnd = 0;
        while (lineEnd < frame.length && frame[lineEnd] != '\n') {
            lineEnd++;
        }
        String[] words = new String(frame, 0, lineEnd, StandardCharsets.UTF_8).split(" ");
        if (words.length < 5 || words.length % 2 == 0 || words[0].equals(node)) {
            return; // malformed (not from this code), or this node's own, which it delivered itself
        }
        int headerLength;
        int payloadLength;
        try {
            headerLength = Integer.parseInt(words[3]);
            payloadLength = Integer.parseInt(words[4]);
        } catch (NumberFormatException e) {
            return;
        }
        int start = lineEnd + 1;
        if (headerLength < 0 || payloadLength < 0 || (long) start + headerLength + payloadLength != frame.length) {
            return;
        }
        Set<String> groupsHere = new HashSet<>();
        for (int i = 5; i + 1 < words.length; i += 2) {
            if (words[i + 1].equals(node)) {
                groupsHere.add(words[i]);
            }
        }
        byte[] headers = headerLength == 0 ? null : Arrays.copyOfRange(frame, start, start + headerLength);
        byte[] payload = Arrays.copyOfRange(frame, start + headerLength, frame.length);
        try {
            receiver.accept(new Heard(words[1], words[2].equals(NO_REPLY) ? null : words[2], headers, payload,
                    groupsHere));
        } catch (RuntimeException e) {
            log.error("a live message on {} could not be delivered", words[1], e);
        }
    }

    /** Leaves every group at once, so other nodes stop picking this one. */
    synchronized void close() {
        if (!memberships.isEmpty()) {
            try {
                redis.hdel(groupsKey, memberships.keySet().toArray(String[]::new)).get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("live memberships not removed (they expire by themselves): {}", e.getMessage());
            }
            memberships.clear();
        }
        pubsub.close();
    }

    /**
     * A script of its own, run by digest; a Redis that lost it (restarted) gets its text. Unlike the engine's
     * changes, live messages have no order to keep across that.
     */
    private final class Script {
        private final String text;
        private final String digest;

        Script(String name) {
            try (InputStream in = RedisLive.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("script " + name + " missing from the jar");
                }
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            digest = Base16.digest(text.getBytes(StandardCharsets.UTF_8));
        }

        <T> CompletableFuture<T> run(String key, byte[]... args) {
            String[] keys = {key, channel};
            return redis.<T>evalsha(digest, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
                    .exceptionallyCompose(e -> e instanceof RedisNoScriptException
                            || e.getCause() instanceof RedisNoScriptException
                            ? redis.<T>eval(text, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
                            : CompletableFuture.failedFuture(e));
        }
    }
}
