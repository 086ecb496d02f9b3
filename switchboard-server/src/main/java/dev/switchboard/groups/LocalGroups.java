package dev.switchboard.groups;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer groups on an engine of one node (docs/groups.md): every change of every group runs on this class's one
 * thread, against state only it touches, so group state needs no locks; each change that must survive a restart
 * (leases taken, acknowledged, moved to the dead-letter topic) is one {@link Transaction}, and a member gets its
 * messages only once their leases are stored.
 */
final class LocalGroups implements GroupService.Groups {
    private static final Logger log = LoggerFactory.getLogger(LocalGroups.class);
    /** Lease expiry is looked for this often, so a redelivery comes at most this late. */
    private static final long TICK_MILLIS = 100;

    private final Broker broker;
    private final GroupSettings settings;
    /** Payload bytes of one delivery: a fetch answers at least one message, and stops adding them past this. */
    private final long maxFetchBytes;
    private final ScheduledExecutorService executor;
    private final MeterRegistry metrics;
    /** topic → group name → group; the executor's alone. */
    private final Map<String, Map<String, ConsumerGroup>> groups = new HashMap<>();

    /**
     * Reads the stored groups back (blocking, at start-up) and starts the groups' thread.
     *
     * @param maxFetchBytes payload bytes one fetch or push answers at most (at least one message)
     * @param metrics       where each group's meters go ({@link GroupMeters})
     */
    LocalGroups(Broker broker, GroupSettings settings, long maxFetchBytes, MeterRegistry metrics) {
        this.broker = broker;
        this.metrics = metrics;
        this.maxFetchBytes = maxFetchBytes;
        this.settings = settings;
        executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("switchboard-groups").daemon(true).factory());
        Map<String, byte[]> nexts = new HashMap<>();
        Map<String, Map<Long, Lease>> leases = new HashMap<>();
        for (Broker.Record r : broker.recordsWithPrefix(GroupKeys.PREFIX)) {
            GroupKeys.Parsed k = GroupKeys.parse(r.key());
            String id = GroupKeys.group(k.topic(), k.group());
            if (k.offset() < 0) {
                nexts.put(id, r.value());
            } else {
                leases.computeIfAbsent(id, x -> new HashMap<>()).put(k.offset(), GroupKeys.lease(r.value()));
            }
        }
        int restored = 0;
        for (Map.Entry<String, byte[]> e : nexts.entrySet()) {
            GroupKeys.Parsed k = GroupKeys.parse(e.getKey());
            ConsumerGroup g = open(k.topic(), k.group(), GroupKeys.next(e.getValue()));
            leases.getOrDefault(e.getKey(), Map.of()).forEach((o, l) -> {
                g.leases.put(o, l);
                if (l.held()) {
                    g.held.merge(l.member(), 1, Integer::sum);
                } else {
                    g.available.add(o);
                }
            });
            restored++;
        }
        executor.scheduleWithFixedDelay(this::expireLeases, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        log.info("groups: {} restored", restored);
    }

    // ---- the calls ----

    /**
     * Up to {@code max} messages that no other member holds, leased to {@code member}; when there are none, waits up
     * to {@code wait} for some (an empty list when none came).
     */
    @Override
    public CompletableFuture<List<GroupService.Delivered>> fetch(String topic, String group, String member, int max,
                                                    Duration wait) {
        CompletableFuture<List<GroupService.Delivered>> result = new CompletableFuture<>();
        onGroupThread(result, () -> {
            ConsumerGroup g = groupForMember(topic, group);
            g.lastSeen.put(member, System.currentTimeMillis());
            if (g.heldBy(member) >= settings.maxInFlightPerMember()) {
                throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "member '" + member + "' holds "
                        + g.heldBy(member) + " unacknowledged messages, the most a member may; ack some first");
            }
            Waiter.Fetch f = new Waiter.Fetch(member, max, settings.maxInFlightPerMember(), result);
            if (!serve(g, f) && !wait.isZero()) {
                g.waiters.add(f);
                executor.schedule(() -> {
                    if (g.waiters.remove(f)) {
                        result.complete(List.of());
                    }
                }, wait.toNanos(), TimeUnit.NANOSECONDS);
            } else if (!result.isDone() && !f.serving) {
                result.complete(List.of());
            }
        });
        return result;
    }

    /** Marks offsets leased to {@code member} done; the others are reported stale and change nothing. */
    @Override
    public CompletableFuture<GroupService.Acked> ack(String topic, String group, String member, long[] offsets) {
        CompletableFuture<GroupService.Acked> result = new CompletableFuture<>();
        onGroupThread(result, () -> {
            ConsumerGroup g = existing(topic, group);
            g.lastSeen.put(member, System.currentTimeMillis());
            List<Long> acked = new ArrayList<>();
            List<Long> stale = new ArrayList<>();
            Map<Long, Lease> removed = new HashMap<>();
            for (long o : offsets) {
                if (holds(g, member, o)) {
                    removed.put(o, g.remove(o));
                    acked.add(o);
                } else {
                    stale.add(o);
                }
            }
            if (removed.isEmpty()) {
                result.complete(new GroupService.Acked(acked, stale));
                return;
            }
            submit(stage -> removed.keySet().forEach(o -> stage.deleteRecord(GroupKeys.lease(topic, group, o))),
                    () -> {
                        g.meters.acked.increment(removed.size());
                        result.complete(new GroupService.Acked(acked, stale));
                        serveWaiters(g);
                    }, error -> {
                        removed.forEach((o, l) -> {
                            if (!g.leases.containsKey(o)) {
                                g.leases.put(o, l);
                                g.held.merge(l.member(), 1, Integer::sum);
                            }
                        });
                        result.completeExceptionally(error);
                    });
        });
        return result;
    }

    /**
     * Gives offsets leased to {@code member} back at once, unprocessed (a member that failed them, or stops): they go
     * to the next fetch, their delivery counted, so a message given back too often still ends in the dead-letter
     * topic. The others are reported stale. Nothing is stored: a restart before the redelivery finds the lease as it
     * was fetched, which expires as usual.
     */
    @Override
    public CompletableFuture<GroupService.Acked> release(String topic, String group, String member, long[] offsets) {
        CompletableFuture<GroupService.Acked> result = new CompletableFuture<>();
        onGroupThread(result, () -> {
            ConsumerGroup g = existing(topic, group);
            List<Long> released = new ArrayList<>();
            List<Long> stale = new ArrayList<>();
            for (long o : offsets) {
                if (holds(g, member, o)) {
                    expire(g, o);
                    released.add(o);
                } else {
                    stale.add(o);
                }
            }
            result.complete(new GroupService.Acked(released, stale));
            serveWaiters(g);
        });
        return result;
    }

    /**
     * Makes a push member of the group: {@code receiver} gets up to {@code maxInFlight} unacknowledged messages at a
     * time, more as it acknowledges. Closing the membership gives back what it holds at once.
     */
    @Override
    public CompletableFuture<GroupService.Membership> join(String topic, String group, String member, int maxInFlight,
                                              GroupService.Receiver receiver) {
        CompletableFuture<GroupService.Membership> result = new CompletableFuture<>();
        onGroupThread(result, () -> {
            ConsumerGroup g = groupForMember(topic, group);
            Waiter.Push p = new Waiter.Push(member, maxInFlight, receiver);
            g.waiters.add(p);
            result.complete(() -> executor.execute(() -> leave(g, p)));
            serveWaiters(g);
        });
        return result;
    }

    @Override
    public CompletableFuture<GroupService.Status> status(String topic, String group) {
        CompletableFuture<GroupService.Status> result = new CompletableFuture<>();
        onGroupThread(result, () -> {
            ConsumerGroup g = existing(topic, group);
            result.complete(new GroupService.Status(topic, group, g.committed(), g.lag(), g.inFlight(),
                    g.members(System.currentTimeMillis() - settings.ackTimeout().toMillis())));
        });
        return result;
    }

    // ---- on the groups' thread ----

    /** Whether {@code offset} is leased to {@code member} and still its to acknowledge or give back. */
    private static boolean holds(ConsumerGroup g, String member, long offset) {
        Lease l = g.leases.get(offset);
        return l != null && member.equals(l.member()) && !g.dying.contains(offset);
    }

    private void onGroupThread(CompletableFuture<?> result, Runnable work) {
        executor.execute(() -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
    }

    private ConsumerGroup existing(String topic, String group) {
        ConsumerGroup g = groups.getOrDefault(topic, Map.of()).get(group);
        if (g == null) {
            throw new ApiException(ErrorCode.GROUP_NOT_FOUND, "topic '" + topic + "' has no group '" + group + "'");
        }
        return g;
    }

    /**
     * The group, created at the topic's first retained offset when new: a new group sees everything retained. Only
     * on a stored topic, so that names of topics nobody publishes to cannot make groups without bound.
     */
    private ConsumerGroup groupForMember(String topic, String group) {
        Map<String, ConsumerGroup> ofTopic = groups.getOrDefault(topic, Map.of());
        ConsumerGroup g = ofTopic.get(group);
        if (g != null) {
            return g;
        }
        if (ofTopic.size() >= settings.maxGroupsPerTopic()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "topic '" + topic + "' has " + ofTopic.size()
                    + " groups, the most a topic may have");
        }
        TopicState stored = broker.state(topic).orElseThrow(() -> new ApiException(ErrorCode.TOPIC_NOT_FOUND,
                "no topic '" + topic + "': a group starts on a topic that has messages"));
        return open(topic, group, stored.firstOffset());
    }

    /** Registers a group and watches its topic, on the engine's thread handing each change here. */
    private ConsumerGroup open(String topic, String group, long next) {
        ConsumerGroup g = new ConsumerGroup(topic, group, next, new GroupMeters(metrics, topic, group));
        groups.computeIfAbsent(topic, t -> new HashMap<>()).put(group, g);
        g.watch = broker.watch(topic, new TopicWatcher() {
            @Override
            public void appended(Message message) {
                g.published.accumulateAndGet(message.offset(), Math::max);
            }

            @Override
            public void truncated(long firstOffset) {
                executor.execute(() -> {
                    g.firstRetained = Math.max(g.firstRetained, firstOffset);
                    g.next = Math.max(g.next, firstOffset);
                });
            }

            @Override
            public void committed() {
                executor.execute(() -> {
                    g.lastOffset = Math.max(g.lastOffset, g.published.get());
                    serveWaiters(g);
                });
            }

            @Override
            public void deleted() {
                executor.execute(() -> drop(g));
            }
        });
        broker.state(topic).ifPresent(s -> {
            g.lastOffset = s.lastOffset();
            g.firstRetained = s.firstOffset();
            g.next = Math.max(g.next, s.firstOffset());
        });
        return g;
    }

    /** A deleted topic takes its groups along: their positions would point into a topic that no longer exists. */
    private void drop(ConsumerGroup g) {
        Map<String, ConsumerGroup> ofTopic = groups.get(g.topic);
        if (ofTopic == null || ofTopic.remove(g.name) == null) {
            return;
        }
        g.watch.cancel();
        g.meters.remove();
        List<Long> leased = new ArrayList<>(g.leases.keySet());
        submit(stage -> {
            stage.deleteRecord(GroupKeys.group(g.topic, g.name));
            leased.forEach(o -> stage.deleteRecord(GroupKeys.lease(g.topic, g.name, o)));
        }, () -> {}, e -> log.warn("group {}/{} of a deleted topic not removed: {}", g.topic, g.name, e.getMessage()));
        for (Waiter w : g.waiters) {
            w.failed(new ApiException(ErrorCode.TOPIC_NOT_FOUND, "topic '" + g.topic + "' was deleted"));
        }
        g.waiters.clear();
    }

    private void serveWaiters(ConsumerGroup g) {
        int round = g.waiters.size();
        for (int i = 0; i < round && !g.waiters.isEmpty(); i++) {
            Waiter w = g.waiters.poll();
            if (w.gone()) {
                continue;
            }
            serve(g, w);
            if (w.stays() || !((Waiter.Fetch) w).serving) {
                g.waiters.add(w); // push members take turns; a fetch that got nothing keeps its place in line
            }
        }
    }

    /**
     * Leases what {@code w} wants, stores the leases, then reads the messages and hands them over. False when
     * nothing was available.
     */
    private boolean serve(ConsumerGroup g, Waiter w) {
        int wants = w.wants(g.heldBy(w.member()));
        if (wants <= 0) {
            return false;
        }
        long expires = System.currentTimeMillis() + settings.ackTimeout().toMillis();
        List<Long> taken = g.take(w.member(), wants, expires, settings.maxPending());
        if (taken.isEmpty()) {
            return false;
        }
        if (w instanceof Waiter.Fetch f) {
            f.serving = true;
        }
        Map<Long, Lease> leases = new HashMap<>();
        taken.forEach(o -> leases.put(o, g.leases.get(o)));
        long next = g.next;
        submit(stage -> {
            stage.putRecord(GroupKeys.group(g.topic, g.name), GroupKeys.next(next));
            leases.forEach((o, l) -> stage.putRecord(GroupKeys.lease(g.topic, g.name, o), GroupKeys.lease(l)));
        }, () -> read(g.topic, taken).whenComplete((messages, error) -> executor.execute(() -> {
            if (error != null) {
                taken.forEach(g::undo);
                w.failed(error);
                return;
            }
            handOver(g, w, taken, messages);
        })), error -> {
            taken.forEach(g::undo);
            w.failed(error);
        });
        return true;
    }

    /**
     * Hands the read messages over, at most {@code maxFetchBytes} of payload (at least one message): offsets past
     * that, or that a read stopped short of, go back to the group undelivered. Offsets retention dropped meanwhile
     * are done, nothing to deliver.
     */
    private void handOver(ConsumerGroup g, Waiter w, List<Long> taken, Map<Long, Message> messages) {
        List<GroupService.Delivered> delivered = new ArrayList<>(taken.size());
        List<Long> gone = new ArrayList<>();
        long bytes = 0;
        for (long o : taken) {
            Message m = messages.get(o);
            Lease l = g.leases.get(o);
            if (l == null || !w.member().equals(l.member())) {
                continue;
            }
            if (m == null && o < g.firstRetained) {
                gone.add(o);
            } else if (m == null || (!delivered.isEmpty() && bytes + m.payload().length > maxFetchBytes)) {
                g.undo(o);
            } else {
                bytes += m.payload().length;
                delivered.add(new GroupService.Delivered(m, l.deliveries()));
            }
        }
        if (!gone.isEmpty()) {
            gone.forEach(g::remove);
            submit(stage -> gone.forEach(o -> stage.deleteRecord(GroupKeys.lease(g.topic, g.name, o))), () -> {},
                    e -> log.debug("leases of dropped messages kept: {}", e.getMessage()));
        }
        if (w.gone()) {
            delivered.forEach(d -> g.undo(d.message().offset()));
        } else {
            g.meters.delivered.increment(delivered.size());
            g.meters.redelivered.increment(delivered.stream().filter(d -> d.deliveries() > 1).count());
            w.deliver(delivered);
        }
        if (delivered.size() + gone.size() < taken.size() || w.gone()) {
            serveWaiters(g);
        }
    }

    /** The messages at these offsets (ascending), each contiguous run read at once. */
    private CompletableFuture<Map<Long, Message>> read(String topic, List<Long> offsets) {
        List<CompletableFuture<List<Message>>> reads = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= offsets.size(); i++) {
            if (i == offsets.size() || offsets.get(i) != offsets.get(i - 1) + 1) {
                reads.add(broker.read(topic, offsets.get(start), i - start, maxFetchBytes));
                start = i;
            }
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
            Map<Long, Message> byOffset = new HashMap<>();
            reads.forEach(r -> r.join().forEach(m -> byOffset.put(m.offset(), m)));
            return byOffset;
        });
    }

    private void leave(ConsumerGroup g, Waiter.Push p) {
        g.waiters.remove(p);
        p.left = true;
        for (long o : g.heldOffsets(p.member())) {
            expire(g, o);
        }
        serveWaiters(g);
    }

    /**
     * Each held lease past its expiry is given back, or, on its last delivery, moved to the dead-letter topic; and
     * each group's gauges are brought up to date, so they are at most one tick old.
     */
    private void expireLeases() {
        long now = System.currentTimeMillis();
        long seenSince = now - settings.ackTimeout().toMillis();
        for (Map<String, ConsumerGroup> ofTopic : groups.values()) {
            for (ConsumerGroup g : ofTopic.values()) {
                List<Long> expired = new ArrayList<>();
                g.leases.forEach((o, l) -> {
                    if (l.held() && l.expires() <= now) {
                        expired.add(o);
                    }
                });
                expired.forEach(o -> expire(g, o));
                g.lastSeen.values().removeIf(t -> t < seenSince);
                g.meters.show(g.lag(), g.inFlight(), g.members(seenSince));
                if (!expired.isEmpty()) {
                    serveWaiters(g);
                }
            }
        }
    }

    private void expire(ConsumerGroup g, long offset) {
        Lease l = g.leases.get(offset);
        if (l.deliveries() < settings.maxDeliveries()) {
            g.release(offset);
            return;
        }
        g.release(offset);
        g.available.remove(offset);
        g.dying.add(offset);
        deadLetter(g, offset, l.deliveries());
    }

    /**
     * Moves a message that was delivered too often to {@code {topic}.dead}, in one transaction with the removal of
     * its lease. Messages carry no headers, so the dead letter is a JSON document: the original envelope of
     * docs/api.md ({@code topic, offset, time, type, data[, encoding]}) plus {@code group} and {@code deliveries}.
     */
    private void deadLetter(ConsumerGroup g, long offset, int deliveries) {
        broker.read(g.topic, offset, 1, Long.MAX_VALUE).whenComplete((read, error) -> executor.execute(() -> {
            if (error != null) {
                log.warn("dead letter {}@{} not read, retried: {}", g.topic, offset, error.getMessage());
                g.dying.remove(offset);
                g.available.add(offset);
                return;
            }
            Message m = read.isEmpty() || read.getFirst().offset() != offset ? null : read.getFirst();
            submit(stage -> {
                if (m != null) {
                    stage.append(g.topic + GroupService.DEAD_SUFFIX, "application/json",
                            DeadLetter.json(g.name, m, deliveries));
                }
                stage.deleteRecord(GroupKeys.lease(g.topic, g.name, offset));
            }, () -> {
                if (m != null) {
                    g.meters.deadLettered.increment();
                }
                g.remove(offset);
                serveWaiters(g);
            }, e -> {
                g.dying.remove(offset);
                g.available.add(offset);
            });
        }));
    }

    /**
     * Submits one change; its outcome comes back on the groups' thread. An engine that refuses work now fails it
     * at once.
     */
    private void submit(Consumer<Transaction.Stage> change, Runnable committed, Consumer<ApiException> failed) {
        try {
            broker.submit(new Transaction() {
                @Override
                public void stage(Stage stage) {
                    change.accept(stage);
                }

                @Override
                public void committed() {
                    executor.execute(committed);
                }

                @Override
                public void failed(ApiException error) {
                    executor.execute(() -> failed.accept(error));
                }
            });
        } catch (ApiException e) {
            failed.accept(e);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

}
