package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.ConnectionStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * A poll over many topics ({@link Delivery#pollMany}): one {@link Delivery#poll} per topic, held or not like a poll of
 * one, answered as soon as any of them has something (or all, without a wait), with what they have then. A pattern's
 * topics join as the engine lists them, and those created during the wait join from their first offset. The answer's
 * positions advance only past what it returns, so nothing is lost or repeated between calls.
 *
 * <p>Threads: runs on the caller's loop ({@code timer}): the engine's announcements and answers are handed there, so
 * a topic's poll never starts on the engine's thread, and nothing here needs a lock. The x-ray reads from any thread.
 */
final class ManyTopicsPoll extends CompletableFuture<ManyTopicsAnswer>
        implements ConnectionStats.SubscriptionSource {
    private record TopicPoll(StartPosition start, CompletableFuture<ReadResult> result) {}

    private final Delivery delivery;
    private final BiFunction<String, StartPosition, StartPosition> startOf;
    private final int limit;
    private final long maxBytes;
    private final Duration wait;
    private final ScheduledExecutorService timer;
    /** Least payload a topic may read for one answer, however many topics share it. */
    private static final long MIN_TOPIC_BYTES = 64 * 1024;

    private final Map<String, TopicPoll> polls = new ConcurrentHashMap<>();
    /** Topics known before the listing ended, polled once it has, when their number sets each one's byte share. */
    private final Map<String, StartPosition> found = new LinkedHashMap<>();
    private long topicBytes;
    private PatternFollow follow;
    private ScheduledFuture<?> timeout;
    /** Whether the patterns' topics are known, each with its poll: before, an answer would lack their positions. */
    private boolean listed;
    /** An answer came due (a message, the wait's end) before the patterns' topics were known. */
    private boolean answerDue;

    ManyTopicsPoll(Delivery delivery, BiFunction<String, StartPosition, StartPosition> startOf, int limit,
                   long maxBytes, Duration wait, ScheduledExecutorService timer) {
        this.delivery = delivery;
        this.startOf = startOf;
        this.limit = limit;
        this.maxBytes = maxBytes;
        this.wait = wait;
        this.timer = timer;
    }

    /** On the loop. @param patterns topics to follow besides {@code exact}, or null for none */
    void start(List<String> exact, Predicate<String> patterns) {
        whenComplete((a, e) -> timer.execute(this::stop));
        if (!wait.isZero()) {
            timeout = timer.schedule(this::answer, wait.toNanos(), TimeUnit.NANOSECONDS);
        }
        for (String topic : exact) {
            found.put(topic, startOf.apply(topic, null));
        }
        if (patterns == null) {
            listed();
            return;
        }
        delivery.followAsync(patterns, (topic, at) -> timer.execute(() -> add(topic, startOf.apply(topic, at))))
                // Handed over after the listing's own hand-offs: its topics are polled before the poll may end.
                .whenComplete((f, error) -> timer.execute(() -> {
                    if (error != null) {
                        completeExceptionally(error);
                    } else if (isDone()) {
                        f.cancel();
                    } else {
                        follow = f;
                        listed();
                    }
                }));
    }

    private void listed() {
        listed = true;
        // Each topic reads at most its share of the answer's bytes (at least one message): what is read but left out
        // of the answer costs memory for nothing, and a pattern may reach hundreds of topics.
        topicBytes = Math.max(MIN_TOPIC_BYTES, maxBytes / Math.max(1, found.size()));
        found.forEach(this::add);
        found.clear();
        if (answerDue) {
            answer();
        } else {
            answerIfAllAnswered();
        }
    }

    private void add(String topic, StartPosition start) {
        if (!listed) {
            found.putIfAbsent(topic, start);
            return;
        }
        if (isDone() || polls.containsKey(topic)) {
            return;
        }
        List<String> followed = new ArrayList<>(polls.keySet());
        followed.add(topic);
        if (!StreamCursor.fits(followed)) {
            completeExceptionally(new ApiException(ErrorCode.LIMIT_EXCEEDED, "with topic '" + topic
                    + "' the poll's cursor could grow past " + StreamCursor.MAX_CHARS + " characters: narrow it"));
            return;
        }
        CompletableFuture<ReadResult> result;
        try {
            result = delivery.poll(topic, start, limit, topicBytes, wait, timer);
        } catch (ApiException e) {
            completeExceptionally(e);
            return;
        }
        polls.put(topic, new TopicPoll(start, result));
        result.whenComplete((r, e) -> timer.execute(() -> {
            if (e != null && !gone(e)) {
                completeExceptionally(e);
            } else if (!wait.isZero() && e == null && (!r.messages().isEmpty() || r.gap())) {
                answer();
            } else {
                // Without a wait, a topic read from memory must not answer before one still reading from the store.
                answerIfAllAnswered();
            }
        }));
    }

    /** A topic that does not exist (yet) or was deleted: nothing to read there, the others go on. */
    private static boolean gone(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return cause instanceof CancellationException
                || (cause instanceof ApiException api && api.code() == ErrorCode.TOPIC_NOT_FOUND);
    }

    /** Without a wait, the answer comes once every topic has answered; with one, at the first message or the end. */
    private void answerIfAllAnswered() {
        if (wait.isZero() && listed && polls.values().stream().allMatch(p -> p.result().isDone())) {
            answer();
        }
    }

    /**
     * Answers with what the topics have now; the polls still held are released. The answer waits until the
     * patterns' topics are known and every poll whose feed is still opening (on a shared engine) knows where it
     * starts: a topic missing from the answer's cursor would be read from offset 1 again.
     */
    private void answer() {
        if (isDone()) {
            return;
        }
        if (!listed) {
            answerDue = true;
            return;
        }
        CompletableFuture<?>[] opening = polls.values().stream()
                .map(p -> p.result() instanceof HeldPoll held && !held.isDone() ? held.whenAttached() : null)
                .filter(attached -> attached != null && !attached.isDone()).toArray(CompletableFuture[]::new);
        if (opening.length > 0) {
            CompletableFuture.allOf(opening).whenComplete((v, e) -> timer.execute(this::answer));
            return;
        }
        SortedMap<String, Long> next = new TreeMap<>();
        List<ManyTopicsAnswer.Gap> gaps = new ArrayList<>();
        List<List<Message>> read = new ArrayList<>();
        for (Map.Entry<String, TopicPoll> e : polls.entrySet()) {
            TopicPoll p = e.getValue();
            long from = p.start() instanceof StartPosition.AtOffset at ? at.offset() : 1;
            CompletableFuture<ReadResult> result = p.result();
            if (!result.isDone()) {
                // still held: where it waits (a poll of no wait is never left undone)
                next.put(e.getKey(), result instanceof HeldPoll held ? held.from() : from);
                continue;
            }
            if (result.isCompletedExceptionally()) {
                next.put(e.getKey(), 1L); // gone: when it is created again, it is a new topic from offset 1
                continue;
            }
            ReadResult r = result.join();
            next.put(e.getKey(), r.next());
            if (r.gap()) {
                long first = r.messages().isEmpty() ? r.next() : r.messages().getFirst().offset();
                gaps.add(new ManyTopicsAnswer.Gap(e.getKey(), from, first));
            }
            if (!r.messages().isEmpty()) {
                read.add(r.messages());
            }
        }
        complete(new ManyTopicsAnswer(merge(read, next), next, gaps));
    }

    /**
     * Oldest first across topics, each topic in offset order, up to the limit and the byte budget (at least one);
     * a topic cut short resumes at its first message left out.
     */
    private List<Message> merge(List<List<Message>> read, SortedMap<String, Long> next) {
        PriorityQueue<int[]> heads = new PriorityQueue<>(Comparator.comparingLong(
                (int[] h) -> read.get(h[0]).get(h[1]).time()).thenComparingInt(h -> h[0]));
        for (int i = 0; i < read.size(); i++) {
            heads.add(new int[] {i, 0});
        }
        List<Message> out = new ArrayList<>();
        long bytes = 0;
        while (!heads.isEmpty() && out.size() < limit && (out.isEmpty() || bytes < maxBytes)) {
            int[] h = heads.poll();
            Message m = read.get(h[0]).get(h[1]);
            out.add(m);
            bytes += m.payload().length;
            if (++h[1] < read.get(h[0]).size()) {
                heads.add(h);
            }
        }
        for (int[] h : heads) {
            Message firstLeft = read.get(h[0]).get(h[1]);
            next.put(firstLeft.topic(), firstLeft.offset());
        }
        return out;
    }

    private void stop() {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (follow != null) {
            follow.cancel();
        }
        for (TopicPoll p : polls.values()) {
            p.result().cancel(false);
        }
    }

    @Override
    public List<ConnectionStats.SubscriptionView> subscriptions() {
        List<ConnectionStats.SubscriptionView> views = new ArrayList<>();
        for (TopicPoll p : polls.values()) {
            if (p.result() instanceof HeldPoll held) {
                views.addAll(held.subscriptions());
            }
        }
        return views;
    }
}
