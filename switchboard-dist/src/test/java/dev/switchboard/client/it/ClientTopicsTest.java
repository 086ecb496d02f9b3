package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.ConnectionException;
import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.From;
import dev.switchboard.client.Gap;
import dev.switchboard.client.InvalidRequestException;
import dev.switchboard.client.LimitExceededException;
import dev.switchboard.client.Message;
import dev.switchboard.client.NotFoundException;
import dev.switchboard.client.Page;
import dev.switchboard.client.Published;
import dev.switchboard.client.SubscribeOptions;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.SwitchboardException;
import dev.switchboard.client.SwitchboardOptions;
import dev.switchboard.client.Transport;
import dev.switchboard.testing.TestServer;
import dev.switchboard.wire.ErrorCode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The client's topic operations against a real server on loopback: each blocking and asynchronous, and its errors. */
@Timeout(60)
class ClientTopicsTest {
    private static final int MAX_MESSAGE = 64 * 1024;
    private static TestServer server;
    private static Switchboard client;

    @BeforeAll
    static void start() {
        server = TestServer.start(c -> c.withLimits(c.limits().withMaxMessageBytes(MAX_MESSAGE).withMaxTopics(40)));
        client = Switchboard.connect(server.url());
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    @Test
    void publishReturnsTheOffsetBlockingAndAsync() throws Exception {
        Published first = client.publish("pub.basic", "hello");
        Published second = client.publishAsync("pub.basic", "world").get(10, TimeUnit.SECONDS);
        Published third = client.publishJson("pub.basic", "{\"n\": 3}");
        Published fourth = client.publishAsync("pub.basic", new byte[] {(byte) 0xff, 0}, "application/octet-stream", null)
                .get(10, TimeUnit.SECONDS);

        assertThat(List.of(first.offset(), second.offset(), third.offset(), fourth.offset())).containsExactly(1L, 2L, 3L, 4L);
        assertThat(first.time()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(first.replayed()).isFalse();

        Page page = client.fetch("pub.basic", From.earliest(), 10);
        assertThat(page.messages()).extracting(Message::offset).containsExactly(1L, 2L, 3L, 4L);
        assertThat(page.messages().get(0).text()).isEqualTo("hello");
        assertThat(page.messages().get(0).type()).isEqualTo("text/plain; charset=utf-8");
        // JSON comes back as the bytes that were published, not re-serialised.
        assertThat(page.messages().get(2).text()).isEqualTo("{\"n\": 3}");
        assertThat(page.messages().get(3).data()).containsExactly(0xff, 0);
        assertThat(page.next()).isEqualTo(5);
        assertThat(page.gap()).isFalse();
    }

    @Test
    void anIdempotencyKeyStoresARetriedPublishOnce() {
        byte[] body = "once".getBytes(StandardCharsets.UTF_8);
        Published first = client.publish("pub.idem", body, "text/plain", "key-1");
        Published again = client.publish("pub.idem", body, "text/plain", "key-1");

        assertThat(again.offset()).isEqualTo(first.offset());
        assertThat(again.replayed()).isTrue();
        assertThat(client.fetch("pub.idem", From.earliest(), 10).messages()).hasSize(1);
    }

    @Test
    void fetchAndPollBlockingAndAsync() throws Exception {
        client.publish("read.fp", "a");
        client.publish("read.fp", "b");

        Page fetched = client.fetchAsync("read.fp", From.offset(2), 10).get(10, TimeUnit.SECONDS);
        assertThat(fetched.messages()).extracting(Message::text).containsExactly("b");

        CompletableFuture<Page> held = client.pollAsync("read.fp", From.offset(3), 10, Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(10)).until(() -> longPolls("read.fp") == 1);
        assertThat(held).isNotDone();
        client.publish("read.fp", "c");
        assertThat(held.get(10, TimeUnit.SECONDS).messages()).extracting(Message::text).containsExactly("c");

        Page empty = client.poll("read.fp", From.offset(4), 10, Duration.ofMillis(50));
        assertThat(empty.messages()).isEmpty();
        assertThat(empty.next()).isEqualTo(4);
    }

    @Test
    void aPollWaitsForATopicThatDoesNotExistYet() throws Exception {
        CompletableFuture<Page> held = client.pollAsync("read.later", From.earliest(), 10, Duration.ofSeconds(20));
        // A topic that does not exist has no description to count its readers: the server's count of held long polls
        // shows it (the count of fed topics also moves while earlier tests' streams are released).
        await().atMost(Duration.ofSeconds(10)).until(() -> gauge("switchboard_long_polls") >= 1);
        assertThat(held).isNotDone();
        client.publish("read.later", "first");
        assertThat(held.get(10, TimeUnit.SECONDS).messages()).extracting(Message::offset).containsExactly(1L);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void subscribeDeliversEveryMessageInOrder(Transport transport) {
        String topic = "sub.order." + transport;
        client.publish(topic, "old");
        List<Message> got = new CopyOnWriteArrayList<>();
        List<URI> connected = new CopyOnWriteArrayList<>();
        try (Switchboard listening = Switchboard.connect(SwitchboardOptions.builder().server(server.url())
                .listener(new ConnectionListener() {
                    @Override
                    public void connected(String t, URI s) {
                        connected.add(s);
                    }
                }).build());
             Subscription sub = listening.subscribe(topic, From.next(),
                     SubscribeOptions.builder().transport(transport).build(), got::add)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> !connected.isEmpty());
            for (int i = 1; i <= 50; i++) {
                client.publish(topic, "m" + i);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> got.size() == 50);
            assertThat(got).extracting(Message::text).containsExactlyElementsOf(
                    java.util.stream.IntStream.rangeClosed(1, 50).mapToObj(i -> "m" + i).toList());
            assertThat(got).extracting(Message::offset).isSorted().doesNotHaveDuplicates();
            assertThat(sub.lastOffset()).isEqualTo(51);
            assertThat(connected).containsOnly(URI.create(server.url()));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void headersArePublishedAndReadOnEveryTransport(Transport transport) throws Exception {
        String topic = "sub.headers." + transport;
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Trace-Id", List.of("t-1"));
        headers.put("Tag", List.of("a", "b\tc"));
        client.publish(topic, "plain".getBytes(StandardCharsets.UTF_8), "text/plain", null, Map.of());
        Published p = client.publishAsync(topic, "{\"n\":2}".getBytes(StandardCharsets.UTF_8), "application/json",
                null, headers).get(10, TimeUnit.SECONDS);
        assertThat(p.offset()).isEqualTo(2);
        assertRefused(() -> client.publish(topic, new byte[0], "text/plain", null, Map.of("a b", List.of("v"))),
                InvalidRequestException.class, ErrorCode.INVALID_HEADERS, 0); // checked here, nothing sent
        assertRefused(() -> client.publish(topic, new byte[0], "text/plain", null, Map.of("T", List.of("caf\u00e9"))),
                InvalidRequestException.class, ErrorCode.INVALID_HEADERS, 0);

        List<Message> got = new CopyOnWriteArrayList<>();
        try (Subscription sub = client.subscribe(topic, From.earliest(),
                SubscribeOptions.builder().transport(transport).build(), got::add)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 2);
        }
        assertThat(got.get(0).headers()).isEmpty();
        assertThat(got.get(1).headers()).isEqualTo(headers);
        assertThat(got.get(1).type()).isEqualTo("application/json");
        assertThat(got.get(1).text()).isEqualTo("{\"n\":2}");
        assertThat(client.fetch(topic, From.earliest(), 10).messages()).extracting(Message::headers)
                .containsExactly(Map.of(), headers);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aGapIsReportedInOrderWithTheMessages(Transport transport) throws Exception {
        String topic = "sub.gap." + transport;
        for (int i = 1; i <= 5; i++) {
            client.publish(topic, "m" + i);
        }
        // Keep only the newest two: offsets 1..3 are gone before the subscriber reads them.
        server.send(java.net.http.HttpRequest.newBuilder(server.uri("/v1/topics/" + topic))
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"maxMessages\":2}")).build());
        List<Object> seen = new CopyOnWriteArrayList<>();
        SubscribeOptions options = SubscribeOptions.builder().transport(transport).onGap(seen::add).build();
        try (Subscription sub = client.subscribe(topic, From.offset(1), options, m -> seen.add(m.offset()))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() == 3);
            assertThat(seen).containsExactly(new Gap(topic, 1, 4), 4L, 5L);
        }
    }

    @Test
    void aDeletedTopicEndsTheSubscriptionWithNotFound() {
        client.publish("sub.deleted", "x");
        try (Subscription sub = client.subscribe("sub.deleted", From.earliest(), m -> {})) {
            await().atMost(Duration.ofSeconds(10)).until(() -> sub.lastOffset() == 1);
            server.send(java.net.http.HttpRequest.newBuilder(server.uri("/v1/topics/sub.deleted")).DELETE().build());
            await().atMost(Duration.ofSeconds(10)).until(() -> sub.closed().isDone());
            assertThatThrownBy(() -> sub.closed().get()).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(NotFoundException.class)
                    .extracting(e -> ((SwitchboardException) e).wireCode()).isEqualTo("topic_deleted");
        }
    }

    @Test
    void refusalsAreTypedExceptionsWithTheirCode() {
        assertRefused(() -> client.fetch("err.none", From.earliest(), 10), NotFoundException.class,
                ErrorCode.TOPIC_NOT_FOUND, 404);
        assertRefused(() -> client.publish("_jobs.x", "no"), InvalidRequestException.class, ErrorCode.RESERVED_TOPIC, 403);
        assertRefused(() -> client.publish("err.json", "{".getBytes(StandardCharsets.UTF_8), "application/json", null),
                InvalidRequestException.class, ErrorCode.INVALID_JSON, 400);
        assertRefused(() -> client.publish("err.big", new byte[MAX_MESSAGE + 1], "application/octet-stream", null),
                LimitExceededException.class, ErrorCode.PAYLOAD_TOO_LARGE, 413);
        assertRefused(() -> client.job("nosuchjob").status(), NotFoundException.class, ErrorCode.JOB_NOT_FOUND, 404);
        // The async form fails its future with the same exception.
        assertThat(client.fetchAsync("err.none", From.earliest(), 10)).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(ExecutionException.class).havingCause().isInstanceOf(NotFoundException.class);
    }

    @Test
    void tooManyTopicsIsLimitExceeded() {
        assertThatThrownBy(() -> {
            for (int i = 0; i < 100; i++) {
                client.publish("many.t" + i, "x");
            }
        }).isInstanceOf(LimitExceededException.class)
                .satisfies(e -> assertThat(((SwitchboardException) e).code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED))
                .satisfies(e -> assertThat(((SwitchboardException) e).status()).isEqualTo(429));
    }

    @Test
    void badArgumentsFailFastWithoutARequest() {
        assertRefused(() -> client.publish("bad topic", "x"), InvalidRequestException.class, ErrorCode.INVALID_TOPIC, 0);
        assertThatThrownBy(() -> client.publishAsync("t", null, "text/plain", null)).isInstanceOf(NullPointerException.class);
        assertRefused(() -> client.publish("t", new byte[1], "text/plain", ""), InvalidRequestException.class,
                ErrorCode.INVALID_IDEMPOTENCY_KEY, 0);
        assertThatThrownBy(() -> client.publishJson("t", "{")).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((SwitchboardException) e).code()).isEqualTo(ErrorCode.INVALID_JSON);
        assertRefused(() -> client.fetch("t", From.earliest(), 0), InvalidRequestException.class, ErrorCode.INVALID_LIMIT, 0);
        assertRefused(() -> client.poll("t", From.earliest(), 10, Duration.ofMinutes(6)), InvalidRequestException.class,
                ErrorCode.INVALID_DURATION, 0);
        assertThatThrownBy(() -> From.offset(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SwitchboardOptions.builder().server("localhost:8080"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SwitchboardOptions.builder().build()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SubscribeOptions.builder().bufferSize(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client.subscribe("t", From.next(), null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void anUnreachableServerIsAConnectionExceptionAndTheNextUrlIsTried() throws Exception {
        String dead = "http://127.0.0.1:" + freePort();
        try (Switchboard alone = Switchboard.connect(SwitchboardOptions.builder().server(dead)
                .requestTimeout(Duration.ofMillis(300)).build())) {
            assertThatThrownBy(() -> alone.publish("t", "x")).isInstanceOf(ConnectionException.class)
                    .hasMessageStartingWith("cannot reach " + dead);
        }
        try (Switchboard failover = Switchboard.connect(dead, server.url())) {
            assertThat(failover.publish("failover.t", "x").offset()).isEqualTo(1);
            Page page = failover.fetch("failover.t", From.earliest(), 1);
            assertThat(page.messages()).hasSize(1);
        }
        // A subscription finds the live node too, whichever URL it starts with.
        for (Transport transport : Transport.values()) {
            List<Long> got = new CopyOnWriteArrayList<>();
            try (Switchboard failover = Switchboard.connect(dead, server.url());
                 Subscription sub = failover.subscribe("failover.t", From.earliest(),
                         SubscribeOptions.builder().transport(transport).build(), m -> got.add(m.offset()))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> got.size() == 1);
                assertThat(got).as(transport.name()).containsExactly(1L);
            }
        }
    }

    @Test
    void theBearerTokenIsSentWithEveryRequest() {
        List<String> asked = new CopyOnWriteArrayList<>();
        try (Switchboard withToken = Switchboard.connect(SwitchboardOptions.builder().server(server.url())
                .token(() -> {
                    asked.add("t");
                    return "secret";
                }).build())) {
            withToken.publish("token.t", "x");
            withToken.fetch("token.t", From.earliest(), 1);
        }
        assertThat(asked).hasSize(2);
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
                                      Class<? extends SwitchboardException> type, ErrorCode code, int status) {
        assertThatThrownBy(call).isInstanceOf(type)
                .satisfies(e -> assertThat(((SwitchboardException) e).code()).isEqualTo(code))
                .satisfies(e -> assertThat(((SwitchboardException) e).status()).isEqualTo(status));
    }

    private static long longPolls(String topic) {
        var r = server.get("/v1/topics/" + topic);
        if (r.statusCode() != 200) {
            return 0;
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("subscribers").path("longpoll").asLong();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double gauge(String name) {
        return server.get("/metrics").body().lines().filter(l -> l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    }

    static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
