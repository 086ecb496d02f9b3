package dev.switchboard.xray;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every open connection of a server, with per-transport totals for {@code /metrics}: open connections, bytes and
 * messages in and out, slow-consumer closes. A connection's counters are credited to the transport it served at the
 * time; a closed connection's are kept in the totals. Each event loop keeps running totals per transport of its own
 * connections' counts, so a scrape adds a few numbers per loop instead of walking every open connection (45 ms with
 * 10,000 open: BENCHMARKS.md, "Held long polls: bytes per poll"). Snapshots for {@code /v1/admin/connections} ask each event loop
 * for its own connections (one task per loop, not per connection) and read {@code /proc/net/tcp} once, on a thread
 * of the registry's own, while the loops work.
 */
public final class ConnectionRegistry implements AutoCloseable {
    private static final String[] COUNT_NAMES = {"switchboard.bytes.in", "switchboard.bytes.out",
        "switchboard.messages.in", "switchboard.messages.out"};
    private static final String[] COUNT_HELP = {"Bytes read from client connections",
        "Bytes written to client connections", "Messages published by client connections (stored)",
        "Messages sent to client connections"};

    private final ConcurrentHashMap<Long, ConnectionStats> open = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final StageTimer stages;
    private final String engine;
    private final Map<Transport, AtomicInteger> openBy = new EnumMap<>(Transport.class);
    /** Per event loop, written by it only: counts per transport, {@code [transport.ordinal() * COUNTS + count]}. */
    private final ConcurrentHashMap<EventExecutor, long[]> tallies = new ConcurrentHashMap<>();
    private final Map<Transport, Counter> slowCloses = new EnumMap<>(Transport.class);
    /** Reads {@code /proc/net/tcp}, which takes milliseconds with many sockets: never on an event loop. */
    private final ExecutorService procReader = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("switchboard-xray").daemon(true).factory());

    public ConnectionRegistry(StageTimer stages, String engine, MeterRegistry metrics) {
        this.stages = stages;
        this.engine = engine;
        for (Transport t : Transport.values()) {
            AtomicInteger n = new AtomicInteger();
            openBy.put(t, n);
            Gauge.builder("switchboard.connections", n, AtomicInteger::get).tag("transport", t.wire())
                    .description("Open client connections by what they serve").register(metrics);
            for (int c = 0; c < ConnectionStats.COUNTS; c++) {
                int count = c;
                FunctionCounter.builder(COUNT_NAMES[c], this, r -> r.total(t, count)).tag("transport", t.wire())
                        .description(COUNT_HELP[c]).register(metrics);
            }
            slowCloses.put(t, Counter.builder("switchboard.slow.consumer.closes").tag("transport", t.wire())
                    .description("Push connections closed because their reader stayed unwritable too long")
                    .register(metrics));
        }
    }

    /** A new connection's first handler; add it before anything else of the pipeline. */
    public ConnectionStats newConnection() {
        return new ConnectionStats(this, stages, ids.incrementAndGet());
    }

    public StageTimer stages() {
        return stages;
    }

    public String engine() {
        return engine;
    }

    /** The running totals {@code loop}'s connections add their counts to, on that loop only. */
    long[] tallyOf(EventExecutor loop) {
        return tallies.computeIfAbsent(loop, l -> new long[Transport.values().length * ConnectionStats.COUNTS]);
    }

    void opened(ConnectionStats c) {
        open.put(c.id(), c);
        openBy.get(c.transport()).incrementAndGet();
    }

    void closed(ConnectionStats c) {
        if (open.remove(c.id()) != null) {
            openBy.get(c.transport()).decrementAndGet();
        }
    }

    void transportChanged(ConnectionStats c, Transport from, Transport to) {
        if (open.containsKey(c.id())) {
            openBy.get(from).decrementAndGet();
            openBy.get(to).incrementAndGet();
        }
    }

    void slowConsumerClosed(Transport t) {
        slowCloses.get(t).increment();
    }

    /** What every connection, open or closed, counted while it served {@code t}: a few numbers per loop. */
    private double total(Transport t, int count) {
        long sum = 0;
        for (long[] tally : tallies.values()) {
            sum += tally[t.ordinal() * ConnectionStats.COUNTS + count];
        }
        return sum;
    }

    public int openCount() {
        return open.size();
    }

    /**
     * {@code switchboard_cursor_lag{stat="sum"|"max"}}: offsets stored and not yet sent, over every subscription. Each
     * loop adds up its own connections' subscriptions once a second (the cursors are its fields), so a scrape reads
     * two numbers per loop instead of touching a loop's state.
     */
    public void watchCursorLag(EventExecutorGroup loops, MeterRegistry metrics) {
        Map<EventExecutor, long[]> perLoop = new ConcurrentHashMap<>();
        for (EventExecutor loop : loops) {
            perLoop.put(loop, new long[2]);
            loop.scheduleAtFixedRate(() -> {
                long[] lag = new long[2];
                for (ConnectionStats c : open.values()) {
                    if (c.channel().eventLoop() == loop) {
                        c.addLag(lag);
                    }
                }
                perLoop.put(loop, lag);
            }, 1, 1, TimeUnit.SECONDS);
        }
        Gauge.builder("switchboard.cursor.lag", perLoop, m -> m.values().stream().mapToLong(l -> l[0]).sum())
                .tag("stat", "sum").description("Offsets stored and not yet sent, over all subscriptions (each second)")
                .strongReference(true).register(metrics);
        Gauge.builder("switchboard.cursor.lag", perLoop, m -> m.values().stream().mapToLong(l -> l[1]).max().orElse(0))
                .tag("stat", "max").description("Offsets stored and not yet sent, the most behind subscription")
                .strongReference(true).register(metrics);
    }

    /** The open connections, oldest first, at most {@code limit} of them, with the total count. */
    public record Snapshot(int total, List<ConnectionView> connections) {
    }

    public CompletableFuture<Snapshot> snapshot(int limit) {
        List<ConnectionStats> chosen = open.values().stream().sorted(Comparator.comparingLong(ConnectionStats::id))
                .limit(limit).toList();
        int total = open.size();
        return views(chosen).thenApply(views -> new Snapshot(Math.max(total, views.size()), views));
    }

    /** One connection, if it is open. */
    public CompletableFuture<Optional<ConnectionView>> snapshot(long id) {
        ConnectionStats c = open.get(id);
        if (c == null) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return views(List.of(c)).thenApply(v -> v.stream().findFirst());
    }

    private CompletableFuture<List<ConnectionView>> views(List<ConnectionStats> connections) {
        CompletableFuture<Map<String, long[]>> queues;
        try {
            queues = CompletableFuture.supplyAsync(ProcNetTcp::read, procReader);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            queues = CompletableFuture.completedFuture(Map.of()); // the server is closing
        }
        Map<EventLoop, List<ConnectionStats>> byLoop = new HashMap<>();
        for (ConnectionStats c : connections) {
            byLoop.computeIfAbsent(c.channel().eventLoop(), l -> new ArrayList<>()).add(c);
        }
        List<CompletableFuture<List<ConnectionView>>> parts = new ArrayList<>();
        byLoop.forEach((loop, mine) -> {
            CompletableFuture<List<ConnectionView>> part = new CompletableFuture<>();
            try {
                loop.execute(() -> {
                    try {
                        part.complete(mine.stream().filter(c -> c.channel().isOpen()).map(ConnectionStats::view)
                                .toList());
                    } catch (RuntimeException e) {
                        part.completeExceptionally(e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                part.complete(List.of()); // the loop is shutting down with its connections
            }
            parts.add(part);
        });
        CompletableFuture<Map<String, long[]>> kernelQueues = queues;
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenCombine(kernelQueues,
                (done, q) -> parts.stream().flatMap(p -> p.join().stream()).map(v -> withQueues(v, q))
                        .sorted(Comparator.comparingLong(ConnectionView::id)).toList());
    }

    private static ConnectionView withQueues(ConnectionView v, Map<String, long[]> queues) {
        long[] q = queues.get(ProcNetTcp.key(v.local(), v.remote()));
        return q == null ? v : v.withKernel(v.kernel().withQueues(q[0], q[1]));
    }

    @Override
    public void close() {
        procReader.shutdownNow();
    }
}
