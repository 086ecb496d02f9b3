package dev.switchboard.groups;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.GroupLedger;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer groups kept by the engine and shared by every node on it (docs/cluster.md, "Consumer groups across
 * nodes"): each fetch, ack and release is one atomic operation of the engine's {@link GroupLedger}, so this node
 * holds no group state, only its own waiting members (held fetches and WebSocket members).
 *
 * <p>A waiting member is tried again, one at a time per group, when a message is published on the topic (on any
 * node: the topic's watcher), when messages go back to one of the topic's groups on any node (the ledger's wake-ups),
 * when the group's next lease falls due (each answer says when), and once a second besides. Every answer's dying
 * messages are moved to the dead-letter topic by this node. Everything here runs on one thread.
 */
final class SharedGroups implements GroupService.Groups {
    private static final Logger log = LoggerFactory.getLogger(SharedGroups.class);
    /** How often due leases are looked for: a redelivery comes at most this late after its lease's expiry. */
    private static final long TICK_MILLIS = 100;
    /** How often every waiting member is tried regardless (a wake-up missed) and each group's gauges refreshed. */
    private static final long SWEEP_MILLIS = 1000;

    private final Broker broker;
    private final GroupLedger ledger;
    private final GroupSettings settings;
    private final long maxFetchBytes;
    private final MeterRegistry metrics;
    private final ScheduledExecutorService executor;
    /** The groups this node has served, by {@code topic/group}; the executor's alone. */
    private final Map<String, Shared> groups = new HashMap<>();

    /** What this node knows of one group: its waiting members, and when its next lease falls due. */
    private static final class Shared {
        final String topic;
        final String name;
        final GroupMeters meters;
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
        /** A waiter being tried, and how many more of the line this round tries. */
        Waiter tried;
        int round;
        boolean again;
        /** The waiter being tried is a fetch whose wait ended meanwhile. */
        boolean triedTimedOut;
        long dueAt = Long.MAX_VALUE;
        Broker.Watch published;
        Broker.Watch wakeUps;

        Shared(String topic, String name, GroupMeters meters) {
            this.topic = topic;
            this.name = name;
            this.meters = meters;
        }
    }

    SharedGroups(Broker broker, GroupLedger ledger, GroupSettings settings, long maxFetchBytes,
                 MeterRegistry metrics) {
        this.broker = broker;
        this.ledger = ledger;
        this.settings = settings;
        this.maxFetchBytes = maxFetchBytes;
        this.metrics = metrics;
        executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("switchboard-groups").daemon(true).factory());
        executor.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletableFuture<List<GroupService.Delivered>> fetch(String topic, String group, String member, int max,
                                                                 Duration wait) {
        CompletableFuture<List<GroupService.Delivered>> result = new CompletableFuture<>();
        whenDone(ledger.fetch(topic, group, member, max, settings.maxInFlightPerMember(), true, maxFetchBytes),
                result, fetched -> {
                    Shared g = known(topic, group);
                    List<GroupService.Delivered> delivered = delivered(g, fetched.messages());
                    upkeep(g, fetched.upkeep());
                    if (!delivered.isEmpty() || wait.isZero()) {
                        result.complete(delivered);
                        return;
                    }
                    Waiter.Fetch f = new Waiter.Fetch(member, max, settings.maxInFlightPerMember(), result);
                    g.waiters.add(f);
                    watch(g);
                    executor.schedule(() -> {
                        if (g.waiters.remove(f)) {
                            result.complete(List.of());
                        } else if (g.tried == f) {
                            g.triedTimedOut = true;
                        }
                    }, wait.toNanos(), TimeUnit.NANOSECONDS);
                    poke(g); // a message published before the watch started is found by this try
                });
        return result;
    }

    @Override
    public CompletableFuture<GroupService.Acked> ack(String topic, String group, String member, long[] offsets) {
        CompletableFuture<GroupService.Acked> result = new CompletableFuture<>();
        whenDone(ledger.ack(topic, group, member, offsets), result, acked -> {
            Shared g = known(topic, group);
            g.meters.acked.increment(acked.done().size());
            result.complete(new GroupService.Acked(acked.done(), acked.stale()));
            upkeep(g, acked.upkeep());
            if (!acked.done().isEmpty()) {
                poke(g); // its push members have room for more
            }
        });
        return result;
    }

    @Override
    public CompletableFuture<GroupService.Acked> release(String topic, String group, String member,
                                                         long[] offsets) {
        CompletableFuture<GroupService.Acked> result = new CompletableFuture<>();
        whenDone(ledger.release(topic, group, member, offsets), result, released -> {
            Shared g = known(topic, group);
            result.complete(new GroupService.Acked(released.done(), released.stale()));
            upkeep(g, released.upkeep());
            poke(g);
        });
        return result;
    }

    @Override
    public CompletableFuture<GroupService.Membership> join(String topic, String group, String member,
                                                           int maxInFlight, GroupService.Receiver receiver) {
        CompletableFuture<GroupService.Membership> result = new CompletableFuture<>();
        // The first try creates the group, or refuses the join (no such topic, too many groups).
        whenDone(ledger.fetch(topic, group, member, maxInFlight, maxInFlight, false, maxFetchBytes), result,
                fetched -> {
                    Shared g = known(topic, group);
                    Waiter.Push p = new Waiter.Push(member, maxInFlight, receiver);
                    result.complete(() -> executor.execute(() -> leave(g, p)));
                    p.deliver(delivered(g, fetched.messages()));
                    g.waiters.add(p);
                    watch(g);
                    upkeep(g, fetched.upkeep());
                    poke(g);
                });
        return result;
    }

    @Override
    public CompletableFuture<GroupService.Status> status(String topic, String group) {
        CompletableFuture<GroupService.Status> result = new CompletableFuture<>();
        whenDone(ledger.status(topic, group), result, s -> {
            Shared g = known(topic, group);
            g.meters.show(s.lag(), s.inFlight(), s.members());
            result.complete(new GroupService.Status(topic, group, s.committed(), s.lag(), s.inFlight(),
                    s.members()));
            upkeep(g, s.upkeep());
        });
        return result;
    }

    // ---- on the groups' thread ----

    private Shared known(String topic, String group) {
        return groups.computeIfAbsent(topic + "/" + group,
                k -> new Shared(topic, group, new GroupMeters(metrics, topic, group)));
    }

    private void leave(Shared g, Waiter.Push p) {
        g.waiters.remove(p);
        p.left = true;
        ledger.leave(g.topic, g.name, p.member()).whenCompleteAsync((left, error) -> {
            if (error != null) {
                log.debug("leases of {} in {}/{} not given back, they expire: {}", p.member(), g.topic, g.name,
                        error.getMessage());
                return;
            }
            upkeep(g, left.upkeep());
        }, executor);
    }

    /** Tries the group's waiting members in line, one at a time, until one finds nothing to take. */
    private void poke(Shared g) {
        if (g.tried != null) {
            g.again = true;
            return;
        }
        g.again = false;
        g.round = g.waiters.size();
        tryNext(g);
    }

    private void tryNext(Shared g) {
        Waiter w = null;
        while (g.round > 0 && w == null) {
            g.round--;
            w = g.waiters.poll();
            if (w != null && w.gone()) {
                w = null;
            }
        }
        if (w == null) {
            if (g.again) {
                poke(g);
            }
            return;
        }
        Waiter tried = w;
        g.tried = tried;
        g.triedTimedOut = false;
        CompletableFuture<GroupLedger.Fetched> attempt;
        try {
            attempt = ledger.fetch(g.topic, g.name, tried.member(), tried.wants(0), tried.maxHeld(), false,
                    maxFetchBytes);
        } catch (ApiException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        attempt.whenCompleteAsync((fetched, error) -> {
            if (error != null) {
                g.tried = null;
                tried.failed(cause(error));
                if (tried.stays()) {
                    g.waiters.add(tried);
                }
                return; // the engine is away: the next sweep tries again
            }
            List<GroupService.Delivered> delivered = delivered(g, fetched.messages());
            if (!delivered.isEmpty()) {
                if (tried.gone()) {
                    giveBack(g, tried.member(), delivered);
                } else {
                    tried.deliver(delivered);
                }
                if (tried.stays()) {
                    g.waiters.add(tried); // push members take turns
                }
                g.round = g.waiters.size(); // more may be waiting: a new round
            } else if (fetched.memberFull()) {
                g.waiters.add(tried);
            } else if (tried instanceof Waiter.Fetch && g.triedTimedOut) {
                tried.deliver(List.of());
                g.round = 0;
            } else {
                g.waiters.addFirst(tried); // nothing to take: it keeps its place in line
                g.round = 0;
            }
            upkeep(g, fetched.upkeep()); // a wake-up it causes waits for this try: g.again
            g.tried = null;
            tryNext(g);
        }, executor);
    }

    /** Messages leased to a member that left meanwhile go back to the group at once. */
    private void giveBack(Shared g, String member, List<GroupService.Delivered> delivered) {
        long[] offsets = delivered.stream().mapToLong(d -> d.message().offset()).toArray();
        ledger.release(g.topic, g.name, member, offsets).whenCompleteAsync((released, error) -> {
            if (error == null) {
                upkeep(g, released.upkeep());
            }
        }, executor);
    }

    private static List<GroupService.Delivered> delivered(Shared g, List<GroupLedger.Leased> leased) {
        List<GroupService.Delivered> delivered = new ArrayList<>(leased.size());
        int again = 0;
        for (GroupLedger.Leased l : leased) {
            delivered.add(new GroupService.Delivered(l.message(), l.deliveries()));
            again += l.deliveries() > 1 ? 1 : 0;
        }
        g.meters.delivered.increment(delivered.size());
        g.meters.redelivered.increment(again);
        return delivered;
    }

    /** What every answer of the ledger carries: messages to move to the dead-letter topic, the next due lease. */
    private void upkeep(Shared g, GroupLedger.Upkeep upkeep) {
        upkeep.dying().forEach(d -> bury(g, d));
        g.dueAt = upkeep.dueInMillis() < 0 ? Long.MAX_VALUE
                : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(upkeep.dueInMillis());
        if (upkeep.freed() && !g.waiters.isEmpty()) {
            poke(g);
        }
    }

    private void bury(Shared g, GroupLedger.Dying d) {
        Message m = d.message();
        byte[] letter = m == null ? null : DeadLetter.json(g.name, m, d.deliveries());
        ledger.bury(g.topic, g.name, d.offset(), d.deliveries(), letter).whenCompleteAsync((moved, error) -> {
            if (error != null) {
                log.warn("dead letter {}@{} of group {} not moved, tried again later: {}", g.topic, d.offset(),
                        g.name, cause(error).getMessage());
            } else if (moved) {
                g.meters.deadLettered.increment();
            }
        }, executor);
    }

    /** The topic's watcher and the groups' wake-ups, while the group has waiting members here. */
    private void watch(Shared g) {
        if (g.published != null) {
            return;
        }
        g.published = broker.watch(g.topic, new TopicWatcher() {
            @Override
            public void appended(Message message) {}

            @Override
            public void truncated(long firstOffset) {}

            @Override
            public void committed() {
                executor.execute(() -> poke(g));
            }

            @Override
            public void deleted() {
                executor.execute(() -> poke(g));
            }
        });
        g.wakeUps = ledger.wakeUps(g.topic, () -> executor.execute(() -> poke(g)));
    }

    /** Due leases go back; a group with members waiting here gets them through a try. */
    private void tick() {
        long now = System.nanoTime();
        for (Shared g : List.copyOf(groups.values())) {
            if (g.dueAt - now > 0) {
                continue;
            }
            g.dueAt = Long.MAX_VALUE;
            if (!g.waiters.isEmpty()) {
                poke(g);
                continue;
            }
            ledger.expire(g.topic, g.name).whenCompleteAsync((upkeep, error) -> {
                if (error == null && upkeep == null) {
                    drop(g);
                } else if (error == null) {
                    upkeep(g, upkeep);
                }
            }, executor);
        }
    }

    /**
     * Once a second: tries the waiting members (a wake-up may have been missed while the engine was away), stops
     * watching for groups nobody waits on here, and refreshes each group's gauges; forgets groups gone.
     */
    private void sweep() {
        for (Shared g : List.copyOf(groups.values())) {
            g.waiters.removeIf(Waiter::gone);
            if (!g.waiters.isEmpty()) {
                poke(g);
            } else if (g.published != null && g.tried == null) {
                g.published.cancel();
                g.wakeUps.cancel();
                g.published = null;
                g.wakeUps = null;
            }
            ledger.status(g.topic, g.name).whenCompleteAsync((s, error) -> {
                if (error == null) {
                    g.meters.show(s.lag(), s.inFlight(), s.members());
                    upkeep(g, s.upkeep());
                } else if (cause(error) instanceof ApiException e && e.code() == ErrorCode.GROUP_NOT_FOUND) {
                    drop(g);
                }
            }, executor);
        }
    }

    /** A group whose topic was deleted: its waiting members are told, its meters removed. */
    private void drop(Shared g) {
        if (groups.remove(g.topic + "/" + g.name) == null) {
            return;
        }
        g.meters.remove();
        if (g.published != null) {
            g.published.cancel();
            g.wakeUps.cancel();
        }
        for (Waiter w : g.waiters) {
            w.failed(new ApiException(ErrorCode.TOPIC_NOT_FOUND, "topic '" + g.topic + "' was deleted"));
        }
        g.waiters.clear();
    }

    /** Completes {@code result} on the groups' thread: with {@code onValue}, or with the failure. */
    private <T> void whenDone(CompletableFuture<T> call, CompletableFuture<?> result, Consumer<T> onValue) {
        call.whenCompleteAsync((value, error) -> {
            if (error != null) {
                result.completeExceptionally(cause(error));
                return;
            }
            try {
                onValue.accept(value);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, executor);
    }

    private static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
