package dev.switchboard.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.broker.LiveExchange;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.RedisPerClass;
import dev.switchboard.testing.Slow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The live exchange's bound: a node keeps at most 16 MiB of live messages in flight to Redis, and drops the rest. */
@Slow
class RedisLiveTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static final RedisPerClass redis = RedisPerClass.shared();

    private static RedisBroker open(SimpleMeterRegistry metrics) {
        return RedisBroker.open(redis.uri(), "live-test:", 0, Limits.defaults(), Retention.UNLIMITED,
                Duration.ofHours(1), metrics);
    }

    @Test
    void messagesPastTheBytesInFlightAreDroppedAtOnceAndTheOthersArrive() throws Exception {
        SimpleMeterRegistry metricsA = new SimpleMeterRegistry();
        List<LiveExchange.Heard> heard = new CopyOnWriteArrayList<>();
        try (RedisBroker a = open(metricsA); RedisBroker b = open(new SimpleMeterRegistry())) {
            LiveExchange sender = a.liveExchange(m -> { }).orElseThrow();
            LiveExchange receiver = b.liveExchange(heard::add).orElseThrow();
            receiver.listen().get();

            byte[] mebibyte = new byte[1024 * 1024];
            int fit = (int) (RedisLive.MAX_BYTES_IN_FLIGHT / (mebibyte.length + "big".length()));
            List<CompletableFuture<Set<String>>> sent = new ArrayList<>();
            redis.server().freeze(); // nothing sent is answered: every message stays in flight
            try {
                for (int i = 0; i < fit + 5; i++) {
                    sent.add(sender.send("big", null, null, mebibyte));
                }
                for (int i = 0; i < fit; i++) {
                    assertThat(sent.get(i)).as("message %d is in flight", i).isNotDone();
                }
                for (int i = fit; i < fit + 5; i++) {
                    assertThat(sent.get(i)).as("message %d is over the bound", i).isCompletedWithValue(Set.of());
                }
                assertThat(metricsA.get("switchboard.live.dropped").counter().count()).isEqualTo(5);
            } finally {
                redis.server().thaw();
            }
            await().atMost(WAIT).until(() -> heard.size() == fit);
            assertThat(heard).allSatisfy(m -> assertThat(m.payload()).hasSize(mebibyte.length));
            // The bound is free again once Redis answered.
            assertThat(sender.send("small", null, null, "x".getBytes(StandardCharsets.UTF_8)).get())
                    .isEmpty();
            await().atMost(WAIT).until(() -> heard.size() == fit + 1);
            assertThat(heard.getLast().subject()).isEqualTo("small");
        }
    }
}
