package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.describe;
import static dev.switchboard.stream.StreamFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients that lose their connection resume from their last offset + 1 and, together with what they got before, see
 * every message exactly once and in order: after dropping the connection themselves mid-stream while a publisher keeps
 * publishing, and after a restart of the server. Each subscriber checks only what it was sent; nothing is deduplicated
 * on the client side.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResumeTest {
    private static final String TOPIC = "resume.stream";

    private TestServer server;
    private Publisher publisher;
    private final List<Resumer> subscribers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        if (publisher != null) {
            publisher.stop();
        }
        subscribers.forEach(Resumer::drop);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void subscribersThatDropMidStreamResumeWithNothingLostOrRepeated() throws Exception {
        server = TestServer.start();
        int total = 600;
        subscribers.add(new WsResumer(Set.of(60, 200, 380)));
        subscribers.add(new CurlResumer(Set.of(100, 300)));
        subscribers.add(new HttpClientResumer(Set.of(150, 450)));
        for (Resumer r : subscribers) {
            r.connect(1); // from offset 1, so it does not matter when each subscription starts
        }

        publisher = new Publisher(total);
        publisher.start();
        // Reconnect each dropped subscriber only after at least 20 more messages were published while it was away
        // (or the publisher finished), so every resume has to catch up from the log.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(10)).until(() -> {
            for (Resumer r : subscribers) {
                if (r.disconnected() && r.count() < total
                        && (publisher.published.get() >= r.last() + 20 || publisher.finished())) {
                    r.tryResume();
                }
            }
            return publisher.finished() && subscribers.stream().allMatch(r -> r.count() >= total);
        });
        publisher.assertNoFailure();

        for (Resumer r : subscribers) {
            r.assertSawExactly(total);
            System.out.printf("%s: %d messages over %d connections%n", r.name, r.count(), r.connections);
            assertThat(r.connections).as("%s reconnected after each drop; its connections ended: %s", r.name, r.ends)
                    .isEqualTo(r.cuts.size() + 1);
        }
    }

    @Test
    void subscribersResumeAcrossAServerRestartWithOffsetsContinuing() throws Exception {
        server = TestServer.start();
        int total = 400;
        subscribers.add(new WsResumer(Set.of()));
        subscribers.add(new CurlResumer(Set.of()));
        subscribers.add(new HttpClientResumer(Set.of()));
        for (Resumer r : subscribers) {
            r.connect(1); // from offset 1, so it does not matter when each subscription starts
        }

        publisher = new Publisher(total);
        publisher.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> publisher.published.get() >= 150);
        long restartStart = System.nanoTime();
        server.restart(); // the publisher keeps going: its failed publishes retry with their Idempotency-Key
        long afterRestart = publisher.published.get();
        System.out.printf("restart took %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartStart));

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(10)).until(() -> {
            for (Resumer r : subscribers) {
                if (r.disconnected() && r.count() < total) {
                    r.tryResume();
                }
            }
            return publisher.finished() && subscribers.stream().allMatch(r -> r.count() >= total);
        });
        publisher.assertNoFailure();
        System.out.printf("all caught up %d ms after the restart began%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartStart));
        assertThat(afterRestart).as("the restart happened mid-stream").isLessThan(total);

        for (Resumer r : subscribers) {
            r.assertSawExactly(total);
            System.out.printf("%s: %d messages over %d connections (restart after ~%d published)%n", r.name, r.count(),
                    r.connections, afterRestart);
            assertThat(r.connections).as("%s reconnected after the restart", r.name).isGreaterThanOrEqualTo(2);
        }
        JsonNode topic = describe(server, TOPIC);
        assertThat(topic.get("firstOffset").asLong()).isEqualTo(1);
        assertThat(topic.get("lastOffset").asLong()).isEqualTo(total);
        assertThat(topic.get("messages").asLong()).isEqualTo(total);
    }

    // ---- the publisher ----

    /**
     * Publishes {@code m-1 … m-N} one at a time, each with its own Idempotency-Key, retrying a publish until it is
     * acknowledged (the server may be restarting); checks that message i got offset i, so nothing was stored twice or
     * skipped.
     */
    private final class Publisher {
        final AtomicLong published = new AtomicLong();
        private final int total;
        private final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private volatile boolean stopped;
        private Thread thread;

        Publisher(int total) {
            this.total = total;
        }

        void start() {
            thread = Thread.ofPlatform().daemon().name("resume-publisher").start(() -> {
                try {
                    for (int i = 1; i <= total && !stopped; i++) {
                        int n = i;
                        AtomicLong offset = new AtomicLong();
                        await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                                .pollInterval(Duration.ofMillis(10)).ignoreExceptions()
                                .until(() -> tryPublish(n, offset));
                        assertThat(offset.get()).as("offset of m-%d", n).isEqualTo(n);
                        published.set(n);
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
        }

        private boolean tryPublish(int n, AtomicLong offset) throws Exception {
            HttpRequest req = HttpRequest.newBuilder(server.uri("/v1/topics/" + TOPIC + "/messages"))
                    .timeout(Duration.ofSeconds(5)).header("Content-Type", "text/plain")
                    .header("Idempotency-Key", "m-" + n).POST(HttpRequest.BodyPublishers.ofString("m-" + n)).build();
            HttpResponse<String> r = server.http().send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                return false; // 503 while the log is closing; retried
            }
            offset.set(json(r.body()).get("offset").asLong());
            return true;
        }

        boolean finished() {
            return !thread.isAlive();
        }

        void assertNoFailure() {
            assertThat(failures).as("publisher failures").isEmpty();
            assertThat(published.get()).isEqualTo(total);
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.join(40_000);
        }
    }

    // ---- subscribers that resume ----

    /**
     * One logical subscriber across connections. It records what it is sent; on reaching one of its cut points it
     * drops its own connection (ignoring anything that arrives after), and {@link #tryResume()} opens a new one from
     * the last recorded offset + 1.
     */
    private abstract class Resumer {
        final String name;
        final Set<Integer> cuts;
        final List<Long> offsets = new CopyOnWriteArrayList<>();
        final List<String> payloads = new CopyOnWriteArrayList<>();
        final List<String> problems = new CopyOnWriteArrayList<>();
        /** How each of its connections ended, as its client saw it, for the failure message. */
        final List<String> ends = new CopyOnWriteArrayList<>();
        volatile int connections;
        /** The current connection's generation; events of older ones are ignored. */
        private volatile int generation;

        Resumer(String name, Set<Integer> cuts) {
            this.name = name;
            this.cuts = cuts;
        }

        int count() {
            return offsets.size();
        }

        long last() {
            return offsets.isEmpty() ? 0 : offsets.getLast();
        }

        /** Opens a connection from {@code from}; throws when the server is not there. */
        final void connect(long from) {
            int gen = ++generation;
            connections++;
            open(from, (offset, data) -> received(gen, offset, data));
        }

        void tryResume() {
            String ended = "after " + count() + " messages: " + endedHow();
            if (ends.isEmpty() || !ends.getLast().equals(ended)) {
                ends.add(ended);
            }
            try {
                if (server.get("/healthz").statusCode() != 200) {
                    return;
                }
            } catch (RuntimeException e) {
                return; // the server is not back yet; the next poll tries again
            }
            try {
                connect(last() + 1);
            } catch (RuntimeException e) {
                connections--; // the server is not back yet; the next poll tries again
            }
        }

        private synchronized void received(int gen, long offset, String data) {
            if (gen != generation) {
                return;
            }
            offsets.add(offset);
            payloads.add(data);
            if (cuts.contains(offsets.size())) {
                generation++; // whatever the old connection still delivers is not ours any more
                drop();
            }
        }

        /** An SSE reader's event: a message goes to {@code onMessage}, anything else is a problem. */
        void deliver(dev.switchboard.testing.SseParser.Event e, BiConsumer<Long, String> onMessage) {
            if (e.type().equals("message")) {
                onMessage.accept(Long.parseLong(e.id()), e.data());
            } else {
                problem("unexpected event " + e);
            }
        }

        void problem(String p) {
            problems.add(p);
        }

        void assertSawExactly(int total) {
            assertThat(problems).as("%s problems", name).isEmpty();
            assertThat(offsets).as("%s offsets", name).containsExactlyElementsOf(
                    LongStream.rangeClosed(1, total).boxed().toList());
            for (int i = 0; i < total; i++) {
                assertThat(payloads.get(i)).as("%s payload at offset %d", name, i + 1).isEqualTo("m-" + (i + 1));
            }
        }

        abstract void open(long from, BiConsumer<Long, String> onMessage);

        abstract boolean disconnected();

        abstract String endedHow();

        abstract void drop();
    }

    /** WebSocket, resuming with the connect shortcut {@code ?subscribe=T&from=N}. */
    private final class WsResumer extends Resumer {
        private volatile WsClient client;

        WsResumer(Set<Integer> cuts) {
            super("websocket", cuts);
        }

        @Override
        void open(long from, BiConsumer<Long, String> onMessage) {
            client = WsClient.connect(server, "/v1/ws?subscribe=" + TOPIC + "&from=" + from, frame -> {
                switch (frame.path("op").asText()) {
                    case "message" -> onMessage.accept(frame.get("offset").asLong(), frame.get("data").asText());
                    case "subscribed" -> {
                        if (frame.get("next").asLong() != from) {
                            problem("subscribed from " + from + " but next is " + frame);
                        }
                    }
                    default -> problem("unexpected frame " + frame);
                }
            });
        }

        @Override
        boolean disconnected() {
            return client == null || client.isClosed();
        }

        @Override
        String endedHow() {
            WsClient c = client;
            return c == null ? "never opened" : String.valueOf(c.closed.getNow(null));
        }

        @Override
        void drop() {
            WsClient c = client;
            if (c != null) {
                c.abort();
                c.closed.complete(new WsClient.Closed(-1, "dropped by the test", null));
            }
        }
    }

    /** SSE read by curl, resuming as EventSource does: {@code Last-Event-ID} of the last event seen. */
    private final class CurlResumer extends Resumer {
        private volatile CurlSse curl;

        CurlResumer(Set<Integer> cuts) {
            super("sse-curl", cuts);
        }

        @Override
        void open(long from, BiConsumer<Long, String> onMessage) {
            String url = server.url() + "/v1/topics/" + TOPIC + "/events";
            curl = from <= 1
                    ? CurlSse.open(url + "?from=earliest", e -> deliver(e, onMessage))
                    : CurlSse.open(url, e -> deliver(e, onMessage), "Last-Event-ID: " + (from - 1));
        }

        @Override
        boolean disconnected() {
            CurlSse c = curl;
            return c == null || c.ended();
        }

        @Override
        String endedHow() {
            CurlSse c = curl;
            return c == null ? "never opened" : "ended, failure " + c.failure();
        }

        @Override
        void drop() {
            CurlSse c = curl;
            if (c != null) {
                c.disconnect();
            }
        }
    }

    /** SSE read by the JDK HttpClient, resuming with {@code ?from=N}. */
    private final class HttpClientResumer extends Resumer {
        private volatile HttpClientSse sse;

        HttpClientResumer(Set<Integer> cuts) {
            super("sse-httpclient", cuts);
        }

        @Override
        void open(long from, BiConsumer<Long, String> onMessage) {
            sse = HttpClientSse.open(server.http(), server.uri("/v1/topics/" + TOPIC + "/events?from=" + from),
                    e -> deliver(e, onMessage));
        }

        @Override
        boolean disconnected() {
            HttpClientSse s = sse;
            return s == null || s.ended();
        }

        @Override
        String endedHow() {
            HttpClientSse s = sse;
            return s == null ? "never opened" : "ended, failure " + s.failure();
        }

        @Override
        void drop() {
            HttpClientSse s = sse;
            if (s != null) {
                s.disconnect();
            }
        }
    }
}
