package dev.switchboard.engine.redis;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.GroupLedger;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Consumer groups in Redis, shared by every node: each operation is one run of groups.lua on the group's keys, which
 * carry the topic's hash tag (docs/cluster.md, "Consumer groups across nodes"), so a fetch chooses its messages,
 * leases them and reads their payloads atomically, by Redis's clock. Changes go through the engine's writer like
 * every other change (their order, and {@code WAIT} for replicas).
 *
 * <p>Messages given back to a group (a release, an expiry, an ack that opens the group's window) are announced on the
 * topic's group channel, sharded pub/sub subscribed while this node has a {@link #wakeUps} listener of the topic.
 */
final class RedisGroupLedger implements GroupLedger {
    private final RedisBroker broker;
    private final Settings settings;
    private final StatefulRedisPubSubConnection<String, byte[]> wakeConnection;
    /** Wake-up listeners by channel. */
    private final Map<String, Set<Runnable>> listeners = new ConcurrentHashMap<>();
    private volatile boolean closed;

    RedisGroupLedger(RedisBroker broker, Settings settings) {
        this.broker = broker;
        this.settings = settings;
        this.wakeConnection = broker.connectPubSub();
        wakeConnection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String channel, byte[] message) {
                listeners.getOrDefault(channel, Set.of()).forEach(Runnable::run);
            }

            @Override
            public void sunsubscribed(String channel, long count) {
                broker.subscribeAgain(wakeConnection, channel, () -> !closed && listeners.containsKey(channel));
            }
        });
    }

    @Override
    public CompletableFuture<Fetched> fetch(String topic, String group, String member, int max, int maxHeld,
                                            boolean refuseWhenFull, long maxBytes) {
        return run(topic, group, "fetch", List.of(member, max, maxHeld, refuseWhenFull ? "1" : "0", maxBytes),
                reply -> {
                    List<?> flat = (List<?>) reply.get(1);
                    List<Leased> leased = new ArrayList<>(flat.size() / 2);
                    for (int i = 0; i + 1 < flat.size(); i += 2) {
                        leased.add(new Leased(message(topic, (List<?>) flat.get(i + 1)),
                                ((Long) flat.get(i)).intValue()));
                    }
                    return new Fetched(leased, (Long) reply.get(2) == 1, upkeep(topic, reply.get(3)));
                });
    }

    @Override
    public CompletableFuture<Acked> ack(String topic, String group, String member, long[] offsets) {
        return acked(topic, group, "ack", member, offsets);
    }

    @Override
    public CompletableFuture<Acked> release(String topic, String group, String member, long[] offsets) {
        return acked(topic, group, "release", member, offsets);
    }

    @Override
    public CompletableFuture<Acked> leave(String topic, String group, String member) {
        return acked(topic, group, "leave", member, new long[0]);
    }

    private CompletableFuture<Acked> acked(String topic, String group, String op, String member, long[] offsets) {
        List<Object> args = new ArrayList<>(offsets.length + 1);
        args.add(member);
        for (long o : offsets) {
            args.add(o);
        }
        return run(topic, group, op, args, reply -> new Acked(offsets(reply.get(1)), offsets(reply.get(2)),
                upkeep(topic, reply.get(3))));
    }

    @Override
    public CompletableFuture<Status> status(String topic, String group) {
        return run(topic, group, "status", List.of(), reply -> new Status((Long) reply.get(1), (Long) reply.get(2),
                ((Long) reply.get(3)).intValue(), ((Long) reply.get(4)).intValue(), upkeep(topic, reply.get(5))));
    }

    @Override
    public CompletableFuture<Upkeep> expire(String topic, String group) {
        return run(topic, group, "expire", List.of(), reply -> reply.size() < 2 ? null : upkeep(topic, reply.get(1)));
    }

    @Override
    public CompletableFuture<Boolean> bury(String topic, String group, long offset, int deliveries,
                                           byte[] deadLetter) {
        List<Object> args = new ArrayList<>(List.of(offset, deliveries, deadLetter == null ? new byte[0] : deadLetter));
        args.addAll(RedisChanges.retentionArgs(broker.defaultRetention));
        return run(topic, group, "bury", args, reply -> reply.size() > 1 && (Long) reply.get(1) == 1);
    }

    @Override
    public Broker.Watch wakeUps(String topic, Runnable wake) {
        String channel = broker.keys.groupWake(topic);
        listeners.compute(channel, (c, set) -> {
            if (set == null) {
                set = ConcurrentHashMap.newKeySet();
                wakeConnection.async().ssubscribe(c);
            }
            set.add(wake);
            return set;
        });
        return () -> listeners.computeIfPresent(channel, (c, set) -> {
            set.remove(wake);
            if (set.isEmpty()) {
                wakeConnection.async().sunsubscribe(c);
                return null;
            }
            return set;
        });
    }

    void close() {
        closed = true;
        wakeConnection.close();
    }

    /** Runs one operation of groups.lua through the writer, in the topic's slot. */
    private <T> CompletableFuture<T> run(String topic, String group, String op, List<Object> args,
                                         Function<List<Object>, T> answer) {
        broker.requireOpen();
        List<Object> all = new ArrayList<>(List.of(broker.keys.prefix(), op, topic, group, settings.ackTimeoutMillis(),
                settings.maxDeliveries(), settings.maxPending(), settings.maxGroupsPerTopic()));
        all.addAll(args);
        byte[][] argv = RedisKeys.args(all.toArray()).toArray(byte[][]::new);
        return broker.writer.issue(() -> broker.scripts.groups.<List<Object>>run(broker.redis,
                broker.keys.meta(topic), argv), reply -> {
                    if (RedisBroker.text(reply.get(0)).equals("E")) {
                        throw new ApiException(ErrorCode.valueOf(RedisBroker.text(reply.get(1))),
                                RedisBroker.text(reply.get(2)));
                    }
                    return answer.apply(reply);
                });
    }

    private static Upkeep upkeep(String topic, Object reply) {
        List<?> parts = (List<?>) reply;
        List<Dying> dying = new ArrayList<>();
        for (Object d : (List<?>) parts.get(0)) {
            List<?> one = (List<?>) d;
            List<?> entry = (List<?>) one.get(2);
            dying.add(new Dying(RedisBroker.number(one.get(0)), ((Long) one.get(1)).intValue(),
                    entry.isEmpty() ? null : message(topic, entry)));
        }
        return new Upkeep(dying, (Long) parts.get(1), (Long) parts.get(2) == 1);
    }

    /** A stream entry as the script returns it: its id, then its fields t, y, p (and h when it has headers). */
    private static Message message(String topic, List<?> entry) {
        String id = RedisBroker.text(entry.get(0));
        List<?> fields = (List<?>) entry.get(1);
        Map<String, byte[]> body = new HashMap<>();
        for (int i = 0; i + 1 < fields.size(); i += 2) {
            body.put(RedisBroker.text(fields.get(i)), (byte[]) fields.get(i + 1));
        }
        byte[] headers = body.get("h");
        return new Message(topic, Long.parseLong(id.substring(0, id.indexOf('-'))),
                Long.parseLong(RedisBroker.text(body.get("t"))), RedisBroker.text(body.get("y")), body.get("p"),
                headers == null ? MessageHeaders.NONE : MessageHeaders.decode(headers, 0, headers.length));
    }

    private static List<Long> offsets(Object reply) {
        List<Long> offsets = new ArrayList<>();
        for (Object o : (List<?>) reply) {
            offsets.add(RedisBroker.number(o));
        }
        return offsets;
    }
}
