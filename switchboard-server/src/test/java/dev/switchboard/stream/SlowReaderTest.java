package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.json;
import static dev.switchboard.stream.StreamFixtures.publish;
import static dev.switchboard.stream.StreamFixtures.subscribers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.GarbageCollectionNotificationInfo;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.Chunked;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.SseParser;
import dev.switchboard.testing.TestServer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A subscriber that stops reading must cost the server no memory beyond its socket buffers (docs/architecture.md, "Cursors, not queues"):
 * its subscription pauses at its offset while other subscribers get everything, it catches up from the log when it
 * reads again, and after the slow-consumer timeout it is closed (WebSocket code 4008) and can resume. The server runs in
 * this JVM, so its heap and Netty's direct memory are measured here.
 */
@Slow
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SlowReaderTest {
    private static final String TOPIC = "slow.readers";
    private static final long MB = 1024 * 1024;
    /** The allowed growth of the server's live heap and of direct memory while 50 MB pass through it. */
    private static final long BUDGET = 16 * MB;

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final AtomicLong acked = new AtomicLong();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ServerConfig configure(ServerConfig c, Duration slowConsumerTimeout, Duration ping) {
        return WebSocketTest.withPingInterval(c.withLimits(c.limits().withSlowConsumerTimeout(slowConsumerTimeout)),
                ping);
    }

    // ---- 50 MB past a reader that never reads ----

    /**
     * {@code coldBudgetMb} bounds the growth from before any traffic, the topic's full in-memory tail included: 4 MiB
     * of payload plus each message's encoded frame, which for 1 MiB messages G1 stores as humongous objects of two
     * 1 MB regions each.
     */
    @ParameterizedTest(name = "{1} x {0} B, {2} publishes in flight")
    @CsvSource({"4096, 12800, 16, 16", "1048576, 50, 2, 32"}) // 50 MiB of payload either way
    void stalledWebSocketReaderCostsNoMemoryWhileAnotherGetsAll50MB(int size, int count, int inFlight,
                                                                    int coldBudgetMb) throws Exception {
        // A long slow-consumer timeout and ping interval: this test is about the pause, not about closing.
        server = TestServer.start(c -> configure(c, Duration.ofMinutes(10), Duration.ofMinutes(10)));
        publish(server, TOPIC, "first"); // offset 1: the topic exists

        OrderedCounter normal = new OrderedCounter();
        WsClient fast = WsClient.connect(server, "/v1/ws?subscribe=" + TOPIC + "&from=earliest", normal::accept);
        open.add(fast);
        RawWebSocket stalled = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC + "&from=earliest",
                4096);
        open.add(stalled);
        await().atMost(Duration.ofSeconds(10)).until(() -> subscribers(server, TOPIC, "ws") == 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> normal.count() == 1);
        Map<String, Long> cold = MemoryProbe.sample(true);

        // Warm-up: 8 MiB in messages of the same size. The topic's in-memory tail of newest messages (bounded in
        // slots and payload bytes, the same for any number of readers) is then full, so the baseline below holds
        // the steady state and the growth measured after it is what the 50 MB and the stalled reader add.
        int warm = (int) (8 * MB / size);
        publishConcurrently(size, warm, inFlight);
        await().atMost(Duration.ofSeconds(120)).until(() -> normal.count() == 1 + warm || normal.failed());

        MemoryProbe probe = new MemoryProbe();
        probe.start();
        long started = System.nanoTime();
        publishConcurrently(size, count, inFlight);
        long total = 1 + warm + count;
        await().atMost(Duration.ofSeconds(180)).until(() -> normal.count() == total || normal.failed());
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(subscribers(server, TOPIC, "ws")).as("the stalled reader is still connected, paused").isEqualTo(2);
        MemoryProbe.Report report = probe.stop();

        System.out.printf("published %d x %d B = %d MB in %d ms (after %d MB of warm-up); the normal subscriber got "
                + "all %d messages; the stalled one is paused%n", count, size, (long) count * size / MB, tookMillis,
                (long) warm * size / MB, total);
        System.out.print(report.describe(cold));

        assertThat(normal.problems).isEmpty();
        assertThat(normal.count()).isEqualTo(total);
        assertThat(normal.bytes.get()).isEqualTo((long) (warm + count) * size + "first".length());
        report.assertGrowthBelow(BUDGET);
        report.assertGrowthFromBelow(cold, coldBudgetMb * MB);

        // The stalled reader now reads: it gets every message, in order, from the log.
        stalled.setReadTimeout(30_000);
        long expected = 1;
        long start = System.nanoTime();
        while (expected <= total) {
            RawWebSocket.Frame f = stalled.readFrame();
            if (f.opcode() != RawWebSocket.Frame.TEXT) {
                continue; // pings
            }
            JsonNode m = json(f.payload());
            if (m.get("op").asText().equals("subscribed")) {
                continue;
            }
            assertThat(m.get("op").asText()).isEqualTo("message");
            assertThat(m.get("offset").asLong()).isEqualTo(expected);
            expected++;
        }
        System.out.printf("the stalled reader caught up on %d messages in %d ms once it read%n", total,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    /** Runs on a thread of its own (not the common pool, which has a single thread on a two-core machine). */
    private static CompletableFuture<Void> inBackground(Runnable task) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("publisher").start(() -> {
            try {
                task.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    private void publishConcurrently(int size, int count, int inFlight) {
        publishConcurrently(size, count, inFlight, null, 0);
    }

    /**
     * As {@link #publishConcurrently(int, int, int)}, each publish waiting until {@code pace} (when given) is at most
     * {@code window} messages behind it: a reader that keeps up by construction, whatever else loads the machine.
     */
    private void publishConcurrently(int size, int count, int inFlight, OrderedCounter pace, int window) {
        try {
            publishAll(size, count, inFlight, pace, window);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void publishAll(int size, int count, int inFlight, OrderedCounter pace, int window) throws Exception {
        byte[] payload = new byte[size];
        Arrays.fill(payload, (byte) 'x');
        Semaphore permits = new Semaphore(inFlight);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        HttpRequest request = HttpRequest.newBuilder(server.uri("/v1/topics/" + TOPIC + "/messages"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build();
        long started = System.nanoTime();
        for (int i = 0; i < count && failures.isEmpty(); i++) {
            if (pace != null) {
                pace.awaitCount(i - window, Duration.ofSeconds(60));
            }
            permits.acquire();
            int n = i;
            CompletableFuture<HttpResponse<String>> f = server.http()
                    .sendAsync(request, HttpResponse.BodyHandlers.ofString());
            pending.add(f.whenComplete((r, e) -> {
                permits.release();
                if (e != null) { // each cause's message: the client wraps the socket's own error (EOF, reset)
                    StringBuilder chain = new StringBuilder();
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        chain.append(" <- ").append(t);
                    }
                    failures.add(new AssertionError("publish " + n + " of " + count + " failed "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms in, with "
                            + acked.get() + " acked in all:" + chain, e));
                } else if (r.statusCode() == 201) {
                    acked.incrementAndGet();
                } else {
                    failures.add(new AssertionError("publish answered " + r.statusCode() + " " + r.body()));
                }
            }));
            if (pending.size() > 1024) {
                pending.removeIf(CompletableFuture::isDone);
            }
        }
        CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])).exceptionally(e -> null)
                .get(120, TimeUnit.SECONDS);
        assertThat(failures.stream().map(Throwable::getMessage).toList()).as("publish failures").isEmpty();
    }

    // ---- the slow-consumer timeout ----

    @Test
    void stalledWebSocketReaderIsClosedAfterTheTimeoutAndResumes() throws Exception {
        server = TestServer.start(c -> configure(c, Duration.ofSeconds(1), Duration.ofMinutes(10)));
        publish(server, TOPIC, "warm-up");
        OrderedCounter normal = new OrderedCounter();
        open.add(WsClient.connect(server, "/v1/ws?subscribe=" + TOPIC + "&from=earliest", normal::accept));
        RawWebSocket stalled = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC + "&from=earliest",
                4096);
        open.add(stalled);
        await().atMost(Duration.ofSeconds(10)).until(() -> subscribers(server, TOPIC, "ws") == 2);

        int count = 4096; // 16 MB of 4 KB messages: far more than the kernel buffers of the stalled socket take
        long started = System.nanoTime();
        CompletableFuture<Void> publishing = inBackground(() -> publishConcurrently(4096, count, 16));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(subscribers(server, TOPIC, "ws"))
                .as("WebSocket subscribers; %d publishes acked, the normal reader has %d", acked.get(), normal.count())
                .isEqualTo(1));
        System.out.printf("stalled WebSocket reader closed by the server %d ms after publishing began%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        publishing.get(120, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(120)).until(() -> normal.count() == count + 1 || normal.failed());
        assertThat(normal.problems).isEmpty();

        // What the kernel still held is delivered, then the connection ends. The close frame (4008) is queued behind
        // the unread data, so it arrives only if the reader drains its socket before the server gives up on it.
        stalled.setReadTimeout(10_000);
        long last = 0;
        RawWebSocket.Frame close = null;
        boolean ended = false;
        try {
            while (close == null) {
                RawWebSocket.Frame f = stalled.readFrame();
                if (f.opcode() == RawWebSocket.Frame.CLOSE) {
                    close = f;
                } else if (f.opcode() == RawWebSocket.Frame.TEXT
                        && json(f.payload()).get("op").asText().equals("message")) {
                    long offset = json(f.payload()).get("offset").asLong();
                    assertThat(offset).isEqualTo(last + 1);
                    last = offset;
                }
            }
        } catch (EOFException | SocketException e) {
            ended = true;
        }
        System.out.printf("the stalled reader had received offsets 1..%d; close frame: %s%n", last,
                close == null ? "none (connection closed)" : close.closeCode() + " " + close.closeReason());
        assertThat(close != null || ended).as("closed with a close frame or by the connection ending").isTrue();
        if (close != null) {
            assertThat(close.closeCode()).isEqualTo(4008);
            assertThat(close.closeReason()).startsWith("slow consumer").contains(TOPIC + "@");
        }
        assertThat(last).as("the stalled reader got only a fraction before it stalled").isLessThan(count + 1);

        // It resumes from its last offset + 1 and gets the rest, in order.
        long from = last + 1;
        OrderedCounter resumed = new OrderedCounter(from);
        open.add(WsClient.connect(server, "/v1/ws?subscribe=" + TOPIC + "&from=" + from, resumed::accept));
        await().atMost(Duration.ofSeconds(30)).until(() -> resumed.next() == count + 2 || resumed.failed());
        assertThat(resumed.problems).isEmpty();
    }

    @Test
    void stalledSseReaderIsClosedAfterTheTimeoutAndResumes() throws Exception {
        server = TestServer.start(c -> configure(c, Duration.ofSeconds(1), Duration.ofMinutes(10)));
        publish(server, TOPIC, "warm-up");
        Socket stalled = new Socket();
        stalled.setReceiveBufferSize(4096);
        stalled.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        open.add(stalled);
        OutputStream out = stalled.getOutputStream();
        out.write(("GET /v1/topics/" + TOPIC + "/events?from=earliest HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        await().atMost(Duration.ofSeconds(10)).until(() -> subscribers(server, TOPIC, "sse") == 1);

        int count = 4096;
        long started = System.nanoTime();
        CompletableFuture<Void> publishing = inBackground(() -> publishConcurrently(4096, count, 16));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(subscribers(server, TOPIC, "sse"))
                .as("SSE subscribers; %d publishes acked", acked.get()).isEqualTo(0));
        System.out.printf("stalled SSE reader closed by the server %d ms after publishing began%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        publishing.get(120, TimeUnit.SECONDS);

        // Drain what arrived: a response head, then chunks of events in order, then the end of the connection (the
        // stream never ends by itself, so no last chunk).
        stalled.setSoTimeout(10_000);
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try {
            stalled.getInputStream().transferTo(received);
        } catch (SocketException e) {
            // a reset is an end too
        }
        byte[] all = received.toByteArray();
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        assertThat(headEnd).as("a response head arrived").isPositive();
        assertThat(text).startsWith("HTTP/1.1 200");
        assertThat(text.substring(0, headEnd)).containsIgnoringCase("transfer-encoding: chunked");
        Chunked.Body body = Chunked.decode(Arrays.copyOfRange(all, headEnd + 4, all.length));
        assertThat(body.ended()).as("a stream closed by the slow-consumer guard has no last chunk").isFalse();
        List<SseParser.Event> events = SseParser.parseAll(body.data());
        List<Long> ids = events.stream().map(e -> Long.parseLong(e.id())).toList();
        assertThat(ids).isNotEmpty().isSorted().doesNotHaveDuplicates();
        assertThat(ids.getFirst()).isEqualTo(1);
        assertThat(ids.getLast()).isEqualTo(ids.size()).isLessThan(count + 1);

        // An EventSource-style reconnect with Last-Event-ID gets the rest.
        long last = ids.getLast();
        HttpClientSse resumed = HttpClientSse.open(server.http(), server.uri("/v1/topics/" + TOPIC + "/events"),
                "Last-Event-ID", Long.toString(last));
        open.add(resumed);
        await().atMost(Duration.ofSeconds(30)).until(() -> resumed.events.size() == count + 1 - last);
        assertThat(resumed.messageIds().getFirst()).isEqualTo(last + 1);
        assertThat(resumed.messageIds().getLast()).isEqualTo(count + 1);
        assertThat(resumed.messageIds()).isSorted().doesNotHaveDuplicates();
    }

    // ---- falling behind retention ----

    @Test
    void stalledReaderThatFallsBehindRetentionGetsAGapThenTheRest() throws Exception {
        server = TestServer.start(c -> configure(c, Duration.ofMinutes(10), Duration.ofMinutes(10)));
        StreamFixtures.setRetention(server, TOPIC, "{\"maxMessages\":200}");
        publish(server, TOPIC, "first");
        RawWebSocket stalled = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC + "&from=earliest",
                4096);
        open.add(stalled);
        OrderedCounter normal = new OrderedCounter();
        open.add(WsClient.connect(server, "/v1/ws?subscribe=" + TOPIC + "&from=earliest", normal::accept));
        await().atMost(Duration.ofSeconds(10)).until(() -> subscribers(server, TOPIC, "ws") == 2);

        // 16 MB: the stalled reader stops long before the end, retention keeps only the last 200. The normal reader
        // paces the publishes to stay within 100 of the newest (a loaded machine once let it fall 200 behind).
        int count = 4096;
        publishConcurrently(4096, count, 16, normal, 100);
        long last = count + 1;
        await().atMost(Duration.ofSeconds(120)).until(() -> normal.next() == last + 1 || normal.failed());
        assertThat(normal.problems).as("a reader that keeps up never sees a gap").isEmpty();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> StreamFixtures.describe(server, TOPIC).get("firstOffset").asLong() == last - 199);

        stalled.setReadTimeout(30_000);
        long expected = 1;
        List<String> gaps = new ArrayList<>();
        while (expected <= last) {
            RawWebSocket.Frame f = stalled.readFrame();
            if (f.opcode() != RawWebSocket.Frame.TEXT) {
                continue;
            }
            JsonNode m = json(f.payload());
            switch (m.get("op").asText()) {
                case "subscribed" -> { }
                case "gap" -> {
                    assertThat(m.get("topic").asText()).isEqualTo(TOPIC);
                    assertThat(m.get("from").asLong()).as("gap %s", m).isEqualTo(expected);
                    assertThat(m.get("first").asLong()).as("gap %s", m).isGreaterThan(expected);
                    gaps.add(m.toString());
                    expected = m.get("first").asLong();
                }
                case "message" -> {
                    assertThat(m.get("offset").asLong()).as("after %s", gaps).isEqualTo(expected);
                    expected++;
                }
                default -> throw new AssertionError("unexpected " + m);
            }
        }
        System.out.println("the stalled reader behind retention was told: " + gaps);
        assertThat(gaps).as("offsets dropped while it stalled are reported, not skipped silently").isNotEmpty();
    }

    // ---- helpers ----

    /**
     * Samples the memory of this JVM (the server's and the test's) while the load runs: Netty's direct memory (its own
     * counter when it keeps one, the default allocator's metric, the pooled allocator's) and the JDK's direct buffer
     * pool every 50 ms; the live heap (after a full GC) every second. Reports the growth over the baseline.
     *
     * <p>The live heap is what the collector itself reports at the end of a full collection this probe asked for and
     * saw end (its notification, cause {@code System.gc()}), not the heap in use read some time later, which also
     * counts what the publishing threads allocated after the collection (a sample of +22 MB, the next +2 MB, once
     * failed the bound that way). Its peak is that of the lower of each two consecutive samples, a second apart: what
     * stalled readers retain stays retained as long as they stall, so it is in both, while what a collection found
     * in flight at that instant (a burst of publishes in the client and the server) is gone by the next. The end
     * sample, taken with no traffic and the readers still stalled, is bounded on its own.
     */
    private static final class MemoryProbe {
        record Report(Map<String, Long> baseline, Map<String, Long> peak, Map<String, Long> end) {
            void assertGrowthBelow(long budget) {
                assertGrowthFromBelow(baseline, budget);
            }

            void assertGrowthFromBelow(Map<String, Long> from, long budget) {
                for (String k : from.keySet()) {
                    if (from.get(k) < 0) {
                        continue; // not tracked here
                    }
                    assertThat(peak.get(k) - from.get(k)).as("peak growth of %s", k).isLessThan(budget);
                    assertThat(end.get(k) - from.get(k)).as("growth of %s at the end", k).isLessThan(budget);
                }
            }

            String describe(Map<String, Long> cold) {
                StringBuilder s = new StringBuilder("memory (MB): before traffic -> steady-state baseline -> peak "
                        + "-> end; growth at peak over the baseline\n");
                for (String k : baseline.keySet()) {
                    long b = baseline.get(k);
                    if (b < 0) {
                        s.append(String.format("  %-26s not tracked%n", k));
                        continue;
                    }
                    s.append(String.format("  %-26s %7.2f -> %7.2f -> %7.2f -> %7.2f   +%.2f%n", k,
                            cold.get(k) / (double) MB, b / (double) MB, peak.get(k) / (double) MB,
                            end.get(k) / (double) MB, (peak.get(k) - b) / (double) MB));
                }
                return s.toString();
            }
        }

        private static final String HEAP = "heap after GC";
        private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("memory-probe").factory());
        private final Map<String, Long> baseline;
        private final Map<String, Long> peak = new LinkedHashMap<>();

        MemoryProbe() {
            baseline = sample(true);
            peak.putAll(baseline);
        }

        void start() {
            sampler.scheduleAtFixedRate(() -> record(sample(false)), 50, 50, TimeUnit.MILLISECONDS);
            lastHeap = baseline.get(HEAP);
            sampler.scheduleAtFixedRate(() -> recordHeap(liveHeap()), 1000, 1000, TimeUnit.MILLISECONDS);
        }

        private synchronized void record(Map<String, Long> now) {
            now.forEach((k, v) -> peak.merge(k, v, Math::max));
        }

        /** The previous live-heap sample of the sampler; the baseline's at first. */
        private long lastHeap = -1;

        private void recordHeap(long now) {
            long sustained = lastHeap < 0 ? now : Math.min(lastHeap, now);
            lastHeap = now;
            record(Map.of(HEAP, sustained));
        }

        Report stop() throws InterruptedException {
            sampler.shutdown();
            sampler.awaitTermination(10, TimeUnit.SECONDS);
            Map<String, Long> end = sample(true);
            record(end);
            synchronized (this) {
                return new Report(baseline, Map.copyOf(peak), end);
            }
        }

        static Map<String, Long> sample(boolean withHeap) {
            Map<String, Long> m = new LinkedHashMap<>();
            if (withHeap) {
                m.put(HEAP, liveHeap());
            }
            m.put("netty direct (counter)", PlatformDependent.usedDirectMemory());
            ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
            m.put("default allocator direct", alloc instanceof ByteBufAllocatorMetricProvider p
                    ? p.metric().usedDirectMemory() : -1L);
            m.put("pooled allocator direct", PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory());
            m.put("JDK direct buffers", ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum());
            return m;
        }

        /**
         * The heap in use at the end of a full collection asked for here, as its collector reported it: fails when
         * none is seen to end (a JVM that ignores {@code System.gc()} cannot be measured this way).
         */
        private static long liveHeap() {
            Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
                    .collect(Collectors.toSet());
            CompletableFuture<Long> afterGc = new CompletableFuture<>();
            NotificationListener listener = (n, handback) -> {
                if (n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                    GarbageCollectionNotificationInfo gc = GarbageCollectionNotificationInfo.from(
                            (CompositeData) n.getUserData());
                    if (gc.getGcCause().equals("System.gc()")) {
                        afterGc.complete(gc.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                                .filter(e -> heapPools.contains(e.getKey()))
                                .mapToLong(e -> e.getValue().getUsed()).sum());
                    }
                }
            };
            List<NotificationEmitter> collectors = ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .map(NotificationEmitter.class::cast).toList();
            collectors.forEach(c -> c.addNotificationListener(listener, null, null));
            try {
                System.gc();
                return afterGc.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("no full collection was seen to end after System.gc()", e);
            } finally {
                for (NotificationEmitter c : collectors) {
                    try {
                        c.removeNotificationListener(listener);
                    } catch (ListenerNotFoundException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
    }
}
