package dev.switchboard.fanout;

import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicState;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.StageTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * Delivery on top of any engine: the {@link TopicFeed} of every topic that has readers here, push subscribers
 * ({@link Subscription}, attached to a feed), short and long polls. Engines only store and notify; everything a
 * transport needs to reach readers lives here, the same for every engine.
 *
 * <p>Threads: any. Nothing here blocks: reads the feed's memory cannot answer go to the engine, which completes them
 * on its own threads.
 */
public final class Delivery {
    private static final int TAIL_SLOTS = 1024;
    private static final long TAIL_BYTES = 4L * 1024 * 1024;

    private final Broker broker;
    private final Limits limits;
    private final TailBudget tailBudget;
    private final StageTimer stages;
    /** Opens feeds whose opening waits on a shared engine, off the event loops; idle, it holds no thread. */
    private static final Executor OPENER = Executors.newVirtualThreadPerTaskExecutor();

    private final ConcurrentHashMap<String, TopicFeed> feeds = new ConcurrentHashMap<>();

    /** @param stages times the fan-out stage: from a commit's signal to each loop's subscribers pushed to */
    public Delivery(Broker broker, Limits limits, MeterRegistry metrics, StageTimer stages) {
        this.broker = broker;
        this.limits = limits;
        this.stages = stages;
        this.tailBudget = new TailBudget(limits.tailCacheBytes());
        Gauge.builder("switchboard.tail.cache", tailBudget, TailBudget::used).baseUnit("bytes")
                .description("Payload bytes of recent messages held in memory for live readers").register(metrics);
        Gauge.builder("switchboard.feeds", feeds, Map::size)
                .description("Topics with readers on this node").register(metrics);
        Gauge.builder("switchboard.long.polls", feeds, Delivery::heldPolls)
                .description("Long polls held on this node, waiting for a message").register(metrics);
    }

    // ---- push subscribers ----

    /**
     * The feed of a topic, opened if needed, for a subscriber or a long poll; pair with {@link #release}. The topic
     * need not exist yet: its feed waits for its first message.
     */
    public TopicFeed attach(String name) {
        TopicNames.validate(name);
        while (true) {
            TopicFeed f = feeds.get(name);
            if (f == null) {
                refuseOverLimit(name);
                // Opened before others can see it: a reader must never resolve "next" against a feed that has
                // not yet learnt where its topic is.
                TopicFeed fresh = new TopicFeed(name, broker, this, new TailCache(TAIL_SLOTS, TAIL_BYTES, tailBudget),
                        stages);
                fresh.open();
                f = feeds.putIfAbsent(name, fresh);
                if (f == null) {
                    f = fresh;
                } else {
                    fresh.close();
                }
            }
            synchronized (f) {
                if (!f.retired) {
                    f.attached++;
                    return f;
                }
            }
        }
    }

    /**
     * {@link #attach} for callers on an event loop. Opening a feed on an engine shared by nodes (Redis) waits on
     * it (a subscription and positions, round trips), so there a feed not open yet is opened on a virtual thread;
     * the embedded engine answers from memory and attaches at once, refusals thrown as from {@link #attach}, unless
     * the topic must be written out first ({@link Broker#whenReadable}, a job's topic). A write-out that fails fails
     * the attach, with no feed opened: a feed on a topic never written out would wait for events that stay unwritten.
     */
    public CompletableFuture<TopicFeed> attachAsync(String name) {
        if (!broker.shared()) {
            CompletableFuture<Void> readable = broker.whenReadable(name);
            return readable.isDone() && !readable.isCompletedExceptionally()
                    ? CompletableFuture.completedFuture(attach(name))
                    : readable.thenApplyAsync(v -> attach(name), OPENER);
        }
        TopicNames.validate(name);
        TopicFeed open = feeds.get(name);
        if (open != null) {
            synchronized (open) {
                if (!open.retired) {
                    open.attached++;
                    return CompletableFuture.completedFuture(open);
                }
            }
        }
        return CompletableFuture.supplyAsync(() -> attach(name), OPENER);
    }

    /** {@link #attachAsync} of every topic, or of none: on a refusal those attached are released. */
    public CompletableFuture<List<TopicFeed>> attachAllAsync(Collection<String> names) {
        List<CompletableFuture<TopicFeed>> attaching = new ArrayList<>();
        try {
            for (String name : names) {
                attaching.add(attachAsync(name));
            }
        } catch (RuntimeException e) {
            attaching.forEach(a -> a.thenAccept(this::release));
            throw e;
        }
        return CompletableFuture.allOf(attaching.toArray(CompletableFuture[]::new)).handle((v, error) -> {
            if (error != null) {
                attaching.forEach(a -> a.thenAccept(this::release));
                throw error instanceof CompletionException c ? c : new CompletionException(error);
            }
            return attaching.stream().map(CompletableFuture::join).toList();
        });
    }

    private static long heldPolls(Map<String, TopicFeed> feeds) {
        long held = 0;
        for (TopicFeed f : feeds.values()) {
            held += f.waiterCount();
        }
        return held;
    }

    /** A topic that is not stored yet costs a feed: awaited topics count against the topic limit too. */
    private void refuseOverLimit(String name) {
        if (broker.state(name).isEmpty() && broker.topicCount() + feeds.size() >= limits.maxTopics()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "the server holds " + limits.maxTopics()
                    + " topics, its limit");
        }
    }

    /** A subscriber or long poll left; the feed closes with its last one. */
    public void release(TopicFeed f) {
        boolean last;
        synchronized (f) {
            f.attached--;
            last = f.attached == 0 && !f.retired;
            if (last) {
                f.retired = true;
                feeds.remove(f.name(), f);
            }
        }
        if (last) {
            f.close();
        }
    }

    /** The engine deleted the feed's topic: later readers get a new feed (of the topic created again, if it is). */
    void forget(TopicFeed f) {
        synchronized (f) {
            f.retired = true;
            feeds.remove(f.name(), f);
        }
    }

    /** Starts a push subscriber on the feed's loop; see {@link Subscription}. */
    public Subscription subscribe(TopicFeed f, StartPosition from, DeliverySink sink) {
        return new Subscription(f, f.resolve(from), sink);
    }

    /**
     * Follows every topic {@code matches} accepts, existing or created later; see {@link PatternFollow}. Issue 17's
     * pattern subscriptions on WebSocket, SSE and long polling take the same path as NATS wildcards. For callers on
     * an event loop: what the start waits for on the engine is awaited off the loop.
     */
    public CompletableFuture<PatternFollow> followAsync(Predicate<String> matches, PatternFollow.Listener listener) {
        return PatternFollow.startAsync(broker, OPENER, matches, listener);
    }

    /** Live readers of a topic per transport ({@code ws}, {@code sse}, {@code longpoll}). */
    public Map<String, Integer> readers(String topic) {
        TopicFeed f = feeds.get(topic);
        if (f == null) {
            return Map.of();
        }
        Map<String, Integer> counts = new LinkedHashMap<>(f.subscribersByTransport());
        int polls = f.waiterCount();
        if (polls > 0) {
            counts.put("longpoll", polls);
        }
        return counts;
    }

    // ---- polls ----

    /**
     * A poll: messages at or after {@code from}. With a positive {@code wait} and nothing to return, holds until a
     * message arrives or the wait ends (then an empty result). {@code timer} schedules the wait's end: pass the
     * caller's event loop. Cancelling the future releases the hold. An unknown topic is an error without a wait; with
     * one, the poll waits for the topic's first message. A poll that may wait returns a future that is also a
     * {@link dev.switchboard.xray.ConnectionStats.SubscriptionSource}: where it waits, for the x-ray.
     */
    public CompletableFuture<ReadResult> poll(String name, StartPosition from, int limit, Duration wait,
                                              ScheduledExecutorService timer) {
        checkPoll(limit, wait);
        return poll(name, from, limit, limits.maxPollResponseBytes(), wait, timer);
    }

    /** {@link #poll} whose answer stops adding messages past {@code maxBytes} of payload (at least one). */
    CompletableFuture<ReadResult> poll(String name, StartPosition from, int limit, long maxBytes, Duration wait,
                                       ScheduledExecutorService timer) {
        TopicNames.validate(name);
        if (wait.isZero()) {
            // Without blocking the caller's loop: on an engine shared by nodes the state is a round trip.
            return broker.stateAsync(name).thenCompose(state -> {
                TopicState s = state.orElseThrow(() ->
                        new ApiException(ErrorCode.TOPIC_NOT_FOUND, "no topic '" + name + "'"));
                long start = from.resolve(s.firstOffset(), s.lastOffset());
                return read(name, feeds.get(name), s.firstOffset(), s.lastOffset(), start, limit, maxBytes);
            });
        }
        HeldPoll result = new HeldPoll();
        CompletableFuture<TopicFeed> attaching = attachAsync(name);
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            startHeld(attaching.join(), from, limit, maxBytes, wait, timer, result);
        } else {
            attaching.whenComplete((f, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    Handoff.execute(timer, () -> startHeld(f, from, limit, maxBytes, wait, timer, result));
                }
            });
        }
        return result;
    }

    /** A held poll's start once its feed is open: answers at once when there is something, else holds. */
    private void startHeld(TopicFeed f, StartPosition from, int limit, long maxBytes, Duration wait,
                           ScheduledExecutorService timer, HeldPoll result) {
        if (result.isDone()) {
            release(f); // cancelled while its feed opened
            return;
        }
        long start = f.resolve(from);
        result.attached(f, start);
        result.whenComplete((r, e) -> {
            result.unpark();
            release(f);
        });
        readFrom(f, start, limit, maxBytes).whenComplete((r, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else if (!r.messages().isEmpty() || r.gap()) {
                result.complete(r);
            } else {
                hold(f, start, limit, maxBytes, wait, timer, result);
            }
        });
    }

    private void checkPoll(int limit, Duration wait) {
        if (limit < 1 || limit > limits.maxPollLimit()) {
            throw new ApiException(ErrorCode.INVALID_LIMIT, "limit must be 1-" + limits.maxPollLimit());
        }
        if (wait.compareTo(limits.maxWait()) > 0) {
            throw new ApiException(ErrorCode.INVALID_DURATION,
                    "wait must be at most " + Durations.format(limits.maxWait()));
        }
    }

    /**
     * A poll over many topics, answered with up to {@code limit} messages of all of them (oldest first, each topic in
     * offset order) and every topic's next offset: as soon as any topic has a message, or with a wait and nothing,
     * when the wait ends. Call on {@code timer}, the caller's event loop. Topics that do not exist count as empty.
     * The future is also a {@link dev.switchboard.xray.ConnectionStats.SubscriptionSource}.
     *
     * @param patterns topics besides {@code exact} to follow, those created during the wait included; null for none
     * @param startOf  where a topic starts, given where a pattern found it (null for a topic of {@code exact})
     */
    public CompletableFuture<ManyTopicsAnswer> pollMany(List<String> exact, Predicate<String> patterns,
                                                        BiFunction<String, StartPosition, StartPosition> startOf,
                                                        int limit, Duration wait, ScheduledExecutorService timer) {
        checkPoll(limit, wait);
        ManyTopicsPoll poll = new ManyTopicsPoll(this, startOf, limit, limits.maxPollResponseBytes(), wait, timer);
        poll.start(exact, patterns);
        return poll;
    }

    /** Parks a long poll on the feed until a message at or after {@code start} exists or the wait ends. */
    private void hold(TopicFeed f, long start, int limit, long maxBytes, Duration wait,
                      ScheduledExecutorService timer, HeldPoll result) {
        TopicFeed.Waiter waiter = new TopicFeed.Waiter() {
            @Override
            public long from() {
                return start;
            }

            @Override
            public void wake() {
                f.removeWaiter(this);
                Handoff.execute(timer, () -> {
                    if (result.isDone()) {
                        return;
                    }
                    if (f.isDeleted()) {
                        result.completeExceptionally(new ApiException(ErrorCode.TOPIC_NOT_FOUND,
                                "topic '" + f.name() + "' was deleted"));
                        return;
                    }
                    readFrom(f, start, limit, maxBytes).whenComplete((r, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else if (!r.messages().isEmpty() || r.gap()) {
                            result.complete(r);
                        } else {
                            f.addWaiter(this);
                            if (f.lastOffset() >= start) {
                                wake();
                            }
                        }
                    });
                });
            }
        };
        ScheduledFuture<?> timeout = timer.schedule(result, wait.toNanos(), TimeUnit.NANOSECONDS);
        result.park(waiter, timeout);
        if (f.lastOffset() >= start || f.isDeleted()) {
            waiter.wake();
        }
    }

    private CompletableFuture<ReadResult> readFrom(TopicFeed f, long start, int limit, long maxBytes) {
        return read(f.name(), f, f.firstOffset(), f.lastOffset(), start, limit, maxBytes);
    }

    /** Messages from {@code start}: from the feed's memory when it has them, else from the engine. */
    private CompletableFuture<ReadResult> read(String name, TopicFeed f, long first, long last, long start,
                                               int limit, long maxBytes) {
        long begin = Math.max(start, first);
        if (begin > last) {
            return CompletableFuture.completedFuture(new ReadResult(name, List.of(), begin, start < first));
        }
        if (f != null && f.cached(begin) != null) {
            List<Message> out = new ArrayList<>();
            long bytes = 0;
            for (long o = begin; o <= last && out.size() < limit && bytes < maxBytes; o++) {
                Message m = f.cached(o);
                if (m == null) {
                    break; // evicted meanwhile: return what we have, the reader continues from next
                }
                out.add(m);
                bytes += m.payload().length;
            }
            return CompletableFuture.completedFuture(resultOf(name, first, start, out));
        }
        return broker.read(name, begin, limit, maxBytes)
                .thenApply(out -> resultOf(name, first, start, out));
    }

    private static ReadResult resultOf(String name, long first, long start, List<Message> out) {
        if (out.isEmpty()) {
            return new ReadResult(name, out, Math.max(start, first), start < first);
        }
        return new ReadResult(name, out, out.getLast().offset() + 1, out.getFirst().offset() > start);
    }
}
