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
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A handler slower than the stream: the subscription never holds more than its buffer (the reader stops reading
 * instead), and nothing is lost, also when the server gives up on the stalled reader (a short slow-consumer timeout)
 * and the subscription resumes from its own offset.
 */
@Slow
@Timeout(90)
class SlowHandlerTest {
    private static final int BUFFER = 16;
    private static final int MESSAGES = 400;
    /** Big enough that the stream outgrows the sockets' buffers while the handler sleeps. */
    private static final int PAYLOAD = 32 * 1024;

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(c -> c.withLimits(c.limits().withSlowConsumerTimeout(Duration.ofMillis(300))));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void memoryStaysBoundedAndNothingIsLost(Transport transport) {
        String topic = "slow." + transport;
        String pad = "x".repeat(PAYLOAD);
        int batch = 20; // a batch is at most the server's message size, 1 MiB
        for (int b = 0; b < MESSAGES / batch; b++) {
            int first = b * batch + 1;
            String ndjson = IntStream.range(first, first + batch).mapToObj(i -> "{\"i\":" + i + ",\"pad\":\"" + pad + "\"}")
                    .collect(Collectors.joining("\n"));
            assertThat(server.post("/v1/topics/" + topic + "/batch", "application/x-ndjson", ndjson).statusCode()).isEqualTo(201);
        }
        List<Long> offsets = new ArrayList<>();
        AtomicInteger mostBuffered = new AtomicInteger();
        Subscription[] self = new Subscription[1];
        try (Switchboard client = Switchboard.connect(server.url());
             Subscription sub = client.subscribe(topic, From.earliest(),
                     SubscribeOptions.builder().transport(transport).bufferSize(BUFFER).build(), m -> {
                         mostBuffered.accumulateAndGet(self[0] == null ? 0 : self[0].buffered(), Math::max);
                         offsets.add(m.offset());
                         Thread.sleep(5); // the slow handler under test
                     })) {
            self[0] = sub;
            await().atMost(Duration.ofSeconds(60)).until(() -> sub.lastOffset() == MESSAGES);
        }
        assertThat(mostBuffered.get()).as("most messages buffered").isLessThanOrEqualTo(BUFFER);
        // The reader was ahead and had to wait: the bound is what held it back.
        assertThat(mostBuffered.get()).as("the buffer filled up").isGreaterThanOrEqualTo(BUFFER - 1);
        assertThat(offsets).containsExactlyElementsOf(LongStream.rangeClosed(1, MESSAGES).boxed().toList());
    }
}
