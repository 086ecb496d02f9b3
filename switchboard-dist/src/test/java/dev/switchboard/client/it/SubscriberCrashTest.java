package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.From;
import dev.switchboard.client.SubscribeOptions;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.SwitchboardOptions;
import dev.switchboard.client.Transport;
import dev.switchboard.testing.Slow;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code kill -9} of the server while a subscriber receives a steady stream, then a restart on the same data: the
 * handler sees every message exactly once, in order. The publisher retries with idempotency keys, so each message is
 * stored once whether or not its first answer was lost with the server.
 */
@Slow
@Timeout(120)
class SubscriberCrashTest {
    private static final int MESSAGES = 150;
    private static final int KILL_AFTER = 50;

    @ParameterizedTest
    @EnumSource(Transport.class)
    void everyMessageOnceInOrderAcrossAKill(Transport transport) throws Exception {
        String topic = "crash." + transport;
        List<String> got = new CopyOnWriteArrayList<>();
        try (ServerChild server = new ServerChild()) {
            server.start();
            SwitchboardOptions options = SwitchboardOptions.builder().server(server.url())
                    .requestTimeout(Duration.ofSeconds(60))
                    .reconnectDelay(Duration.ofMillis(20), Duration.ofMillis(200)).build();
            try (Switchboard client = Switchboard.connect(options);
                 Subscription sub = client.subscribe(topic, From.offset(1),
                         SubscribeOptions.builder().transport(transport).pollWait(Duration.ofSeconds(5)).build(),
                         m -> got.add(m.text()))) {
                AtomicInteger published = new AtomicInteger();
                CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
                    for (int i = 1; i <= MESSAGES; i++) {
                        // The key makes the retries safe: the client retries a keyed publish through the outage.
                        client.publish(topic, ("m" + i).getBytes(StandardCharsets.UTF_8), "text/plain", "m" + i);
                        published.set(i);
                    }
                });
                await().atMost(Duration.ofSeconds(30)).until(() -> got.size() >= KILL_AFTER);
                server.kill();
                int publishedAtKill = published.get();
                server.start();

                publisher.get(60, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(60)).until(() -> sub.lastOffset() == MESSAGES);
                assertThat(publishedAtKill).as("the kill came mid-stream").isLessThan(MESSAGES);
            }
        }
        assertThat(got).containsExactlyElementsOf(IntStream.rangeClosed(1, MESSAGES).mapToObj(i -> "m" + i).toList());
    }
}
