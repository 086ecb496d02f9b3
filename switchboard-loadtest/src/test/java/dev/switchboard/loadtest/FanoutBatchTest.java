package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.FanoutConfig.Transport;
import dev.switchboard.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bench fanout --batch}: publishes go to a real server as batch requests whose answers (offset ranges)
 * confirm them, and SSE subscribers check every message of them, as with single publishes.
 */
class FanoutBatchTest {
    private static final int SUBSCRIBERS = 20;
    private TestServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void batchPublishesReachEverySubscriberInOrder() throws Exception {
        server = TestServer.start(c -> c);
        FanoutReport report = run(new FanoutConfig(Target.SWITCHBOARD, URI.create(server.url()), Transport.SSE,
                SUBSCRIBERS, 64, 0, Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(10),
                FanoutConfig.freshTopic(), 2, 16, ClientIo.Mode.AUTO, 2, List.of(), null, 8));
        assertThat(report.errors().total()).as(report.toString()).isZero();
        assertThat(report.published()).isPositive();
        assertThat(report.delivered()).isEqualTo(report.published() * SUBSCRIBERS);
    }

    @Test
    void batchesAreOnlyForTargetsThatTakeThem() {
        URI redis = URI.create("redis://127.0.0.1:6379");
        assertThatIllegalArgumentException().isThrownBy(() -> new FanoutConfig(
                Target.REDIS, redis, Transport.WS, 1, 64, 0, Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO,
                "t", 1, 16, ClientIo.Mode.AUTO, 1, List.of(), null, 16)).withMessageContaining("--batch");
        assertThatIllegalArgumentException().isThrownBy(() -> new FanoutConfig(
                Target.SWITCHBOARD, URI.create("http://127.0.0.1:8080"), Transport.SSE, 1, 64, 0, Duration.ZERO,
                Duration.ofSeconds(1), Duration.ZERO, "t", 1, 4, ClientIo.Mode.AUTO, 1, List.of(), null, 8))
                .withMessageContaining("--inflight");
    }

    private static FanoutReport run(FanoutConfig config) throws Exception {
        return new FanoutBenchmark(config, new PrintWriter(new StringWriter(), true)).run();
    }
}
