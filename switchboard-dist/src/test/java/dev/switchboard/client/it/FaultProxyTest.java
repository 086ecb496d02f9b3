package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.From;
import dev.switchboard.client.SubscribeOptions;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.Transport;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 10,000 messages per transport through a {@link FaultProxy} that cuts connections, stalls reads and splits writes,
 * published while the subscriber reads: the handler gets every message once, in order.
 */
@Slow
@Timeout(120)
class FaultProxyTest {
    private static final int MESSAGES = 10_000;
    private static final int BATCH = 100;

    private TestServer server;
    private FaultProxy proxy;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start();
        // Cuts every 2-64 KiB from the server: dozens of reconnects over the run, some mid-frame, some mid-headers.
        proxy = new FaultProxy(server.port(), new FaultProxy.Faults(2048, 64 * 1024, 0.01, 20), 9);
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        server.close();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void nothingLostNothingDuplicated(Transport transport) {
        String topic = "faults." + transport;
        List<Long> offsets = new ArrayList<>(MESSAGES);
        List<String> texts = new ArrayList<>(MESSAGES);
        AtomicInteger disconnects = new AtomicInteger();
        try (Switchboard client = Switchboard.connect(proxy.clientOptions(disconnects));
             Subscription sub = client.subscribe(topic, From.offset(1),
                     SubscribeOptions.builder().transport(transport).pollWait(Duration.ofSeconds(5)).build(), m -> {
                         // Only the delivery thread touches these lists.
                         offsets.add(m.offset());
                         texts.add(m.text());
                     })) {
            for (int b = 0; b < MESSAGES / BATCH; b++) {
                int first = b * BATCH + 1;
                String ndjson = IntStream.range(first, first + BATCH).mapToObj(i -> "{\"i\":" + i + "}")
                        .collect(Collectors.joining("\n"));
                assertThat(server.post("/v1/topics/" + topic + "/batch", "application/x-ndjson", ndjson).statusCode())
                        .isEqualTo(201);
            }
            await().atMost(Duration.ofSeconds(90)).until(() -> sub.lastOffset() == MESSAGES);
        }
        assertThat(offsets).hasSize(MESSAGES);
        assertThat(offsets).containsExactlyElementsOf(oneTo(MESSAGES));
        assertThat(texts.get(MESSAGES - 1)).isEqualTo("{\"i\":" + MESSAGES + "}");
        assertThat(disconnects.get()).as("connections cut").isGreaterThan(5);
    }

    private static List<Long> oneTo(int n) {
        return java.util.stream.LongStream.rangeClosed(1, n).boxed().toList();
    }
}
