package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SocketOptions;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bench stalled} end to end against an in-process {@link TestServer} (so the memory read is this JVM's):
 * 2 subscribers, 1 MiB in 1 KiB messages. It checks the run and its report, not the figures.
 */
@Slow
class StalledBenchmarkTest {
    private static final int SUBSCRIBERS = 2;
    private static final long BYTES = 1024 * 1024;
    private static final int SIZE = 1024;
    private static final long MESSAGES = BYTES / SIZE;

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void controlSubscribersReceiveEveryMessage() throws Exception {
        server = TestServer.start();
        StalledBenchmark.Report report = run(false, Duration.ofMillis(200));
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.errors().total()).isZero();
        assertSane(report);
        assertThat(report.stalled()).isFalse();
        assertThat(report.deliveredMin()).isEqualTo(MESSAGES);
        assertThat(report.deliveredMax()).isEqualTo(MESSAGES);
        assertThat(report.delivered()).isEqualTo(SUBSCRIBERS * MESSAGES);
        assertThat(report.subscribersClosed()).isZero();
    }

    /**
     * With a short slow-consumer timeout, the server closes both stalled readers during the settle: counted, not
     * errors. The server's send buffer is fixed small, so 1 MiB per reader cannot all fit in socket buffers (an
     * autotuned loopback send buffer could take it all, and the reader would never look slow).
     */
    @Test
    void stalledSubscribersFallBehindAndTheirClosesAreCountedNotErrors() throws Exception {
        server = TestServer.start(c -> c.withLimits(c.limits().withSlowConsumerTimeout(Duration.ofMillis(300)))
                .withSocket(new SocketOptions(true, 64 * 1024, 0, 128, 32 * 1024, 64 * 1024)));
        StalledBenchmark.Report report = run(true, Duration.ofSeconds(3));
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.errors().total()).isZero();
        assertSane(report);
        assertThat(report.stalled()).isTrue();
        assertThat(report.deliveredMax()).as("a stalled reader reads nothing past the subscribed reply")
                .isLessThan(MESSAGES);
        assertThat(report.subscribersClosed()).isEqualTo(SUBSCRIBERS);
        assertThat(report.toText()).contains("stalled once subscribed", "2 of 2 subscribers closed by the server");
    }

    @Test
    void refusesSettingsThatPublishNothing() {
        assertThatThrownBy(() -> config(URI.create("http://127.0.0.1:1"), true, 1000, Duration.ZERO))
                .hasMessageContaining("--bytes must be at least one message");
        assertThatThrownBy(() -> config(URI.create("redis://127.0.0.1:1"), true, BYTES, Duration.ZERO))
                .hasMessageContaining("--server must be a http:// URL");
        assertThat(config(URI.create("http://127.0.0.1:1"), true, BYTES + SIZE - 1, Duration.ZERO).messages())
                .as("whole messages only").isEqualTo(MESSAGES);
    }

    private StalledBenchmark.Report run(boolean stalled, Duration settle) throws Exception {
        return new StalledBenchmark(config(URI.create(server.url()), stalled, BYTES, settle),
                new PrintWriter(new StringWriter(), true)).run();
    }

    private static StalledBenchmark.Config config(URI uri, boolean stalled, long bytes, Duration settle) {
        return new StalledBenchmark.Config(uri, SUBSCRIBERS, stalled, bytes, SIZE, 2, 16, settle,
                ProcessHandle.current().pid(), ClientIo.Mode.AUTO, 2, FanoutConfig.freshTopic());
    }

    private static void assertSane(StalledBenchmark.Report report) throws Exception {
        assertThat(report.workload()).isEqualTo("stalled");
        assertThat(report.subscribers()).isEqualTo(SUBSCRIBERS);
        assertThat(report.messages()).isEqualTo(MESSAGES);
        assertThat(report.bytes()).isEqualTo(BYTES);
        assertThat(report.published()).isEqualTo(MESSAGES);
        assertThat(report.publishSeconds()).isPositive();
        assertThat(report.publishedPerSecond()).isPositive();
        assertThat(report.rssBeforeBytes()).isPositive();
        assertThat(report.rssSubscribedBytes()).isPositive();
        assertThat(report.rssPeakBytes()).isGreaterThanOrEqualTo(report.rssAfterPublishBytes()).isPositive();
        assertThat(report.rssAfterSettleBytes()).isPositive();
        // Not against the RSS readings: the kernel updates VmHWM lazily, a reading may pass it by a few pages.
        assertThat(report.hwmAfterBytes()).isGreaterThanOrEqualTo(report.hwmBeforeBytes()).isPositive();
        StringWriter out = new StringWriter();
        assertThat(BenchReport.print(report, true, new PrintWriter(out))).isZero();
        assertThat(out.toString()).hasLineCount(1);
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.fieldNames()).toIterable().containsExactly("workload", "target", "subscribers", "stalled",
                "size", "messages", "bytes", "published", "publishSeconds", "publishedPerSecond", "settleSeconds",
                "rssBeforeBytes", "rssSubscribedBytes", "rssPeakBytes", "rssAfterPublishBytes", "rssAfterSettleBytes",
                "hwmBeforeBytes", "hwmAfterBytes", "delivered", "deliveredMin", "deliveredMax", "subscribersClosed",
                "errors", "errorSamples");
        assertThat(json.get("errors").fieldNames()).toIterable().containsExactly("total");
    }
}
