package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.From;
import dev.switchboard.client.InvalidRequestException;
import dev.switchboard.client.SubscribeOptions;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.SwitchboardOptions;
import dev.switchboard.client.Transport;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client subscribing to a pattern of topics over WebSocket, against a real server. */
@Timeout(120)
class ClientPatternTest {
    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aPatternGetsTheMessagesOfEveryMatchingTopicIncludingOnesCreatedLater() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        SwitchboardOptions options = SwitchboardOptions.builder().server(server.url())
                .listener(new ConnectionListener() {
                    @Override
                    public void connected(String topic, URI s) {
                        connected.countDown();
                    }
                }).build();
        List<String> got = new CopyOnWriteArrayList<>();
        try (Switchboard client = Switchboard.connect(options)) {
            client.publish("chat.a", "before");
            try (Subscription sub = client.subscribe("chat.*", From.next(),
                    m -> got.add(m.topic() + "@" + m.offset() + "=" + m.text()))) {
                assertThat(connected.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(sub.topic()).isEqualTo("chat.*");
                client.publish("chat.a", "a2");
                client.publish("chat.b", "b1"); // a topic created after the subscription
                client.publish("other.x", "not matched");
                client.publish("chat.b", "b2");
                await().atMost(Duration.ofSeconds(10)).until(() -> got.size() >= 3);
                assertThat(got).containsExactlyInAnyOrder("chat.a@2=a2", "chat.b@1=b1", "chat.b@2=b2");
            }
        }
    }

    @Test
    void aPatternIsFollowedOverWebSocketFromNextOrEarliest() {
        try (Switchboard client = Switchboard.connect(server.url())) {
            SubscribeOptions sse = SubscribeOptions.builder().transport(Transport.SSE).build();
            assertThatThrownBy(() -> client.subscribe("chat.*", From.next(), sse, m -> { }))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("WebSocket");
            assertThatThrownBy(() -> client.subscribe("chat.*", From.offset(3), m -> { }))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("invalid_from");
            Subscription malformed = client.subscribe("chat.*x", From.next(), m -> { });
            assertThatThrownBy(() -> malformed.closed().get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(InvalidRequestException.class).hasMessageContaining("invalid_topic");
        }
    }

    /**
     * Connections cut every few KiB: each reconnect resumes every topic where it stopped, and a topic created while
     * the client was away from its first message.
     */
    @Test
    @Slow
    void acrossCutConnectionsEachTopicArrivesOnceAndInOrder() throws Exception {
        int perTopic = 600;
        List<String> topics = List.of("faults.a", "faults.b", "faults.later");
        try (FaultProxy proxy = new FaultProxy(server.port(), new FaultProxy.Faults(2048, 32 * 1024, 0.01, 20), 17)) {
            AtomicInteger disconnects = new AtomicInteger();
            Map<String, List<Long>> offsets = new ConcurrentHashMap<>();
            try (Switchboard client = Switchboard.connect(proxy.clientOptions(disconnects))) {
                publish("faults.a", 1, 10);
                publish("faults.b", 1, 10);
                try (Subscription sub = client.subscribe("faults.*", From.earliest(), m ->
                        offsets.computeIfAbsent(m.topic(), t -> new CopyOnWriteArrayList<>()).add(m.offset()))) {
                    for (int first = 11; first <= perTopic; first += 10) {
                        for (String t : topics.subList(0, 2)) {
                            publish(t, first, 10);
                        }
                    }
                    publish("faults.later", 1, perTopic);
                    await().atMost(Duration.ofSeconds(90)).until(() -> topics.stream()
                            .allMatch(t -> offsets.getOrDefault(t, List.of()).size() >= perTopic));
                    assertThat(sub.closed()).isNotDone();
                }
            }
            List<Long> all = LongStream.rangeClosed(1, perTopic).boxed().toList();
            for (String t : topics) {
                assertThat(offsets.get(t)).as(t).containsExactlyElementsOf(all);
            }
            assertThat(disconnects.get()).as("connections cut").isGreaterThan(3);
        }
    }

    private void publish(String topic, int first, int count) {
        String ndjson = IntStream.range(first, first + count).mapToObj(i -> "{\"i\":" + i + "}")
                .collect(Collectors.joining("\n"));
        assertThat(server.post("/v1/topics/" + topic + "/batch", "application/x-ndjson", ndjson).statusCode())
                .isEqualTo(201);
    }
}
