package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.testing.PeerProcesses;
import dev.switchboard.testing.PeerProcesses.Peer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short runs of the durable, idle and longpoll workloads against real targets: a Switchboard {@link TestServer}
 * (fsync always for durable), {@code redis-server} with an fsync-always append-only file, and {@code nats-server}
 * with JetStream on disk. They check that each adapter works end to end, not the figures.
 */
@Slow
class WorkloadsTest {
    private static final int PUBLISHERS = 4;
    private static final int CONNECTIONS = 200;
    private static final Duration HOLD = Duration.ofSeconds(1);

    private final PeerProcesses peers = new PeerProcesses();
    private TestServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        peers.close();
    }

    @Test
    void durableSwitchboard() throws Exception {
        server = TestServer.start(c -> c.withFsync(FsyncPolicy.ALWAYS));
        assertDurable(durable(Target.SWITCHBOARD, URI.create(server.url())));
    }

    @Test
    void durableSwitchboardWithAuthCarriesTheToken(@TempDir Path keys) throws Exception {
        Tokens tokens = Tokens.hs256(keys);
        server = TestServer.start(c -> c.withAuth(tokens.config()));
        String token = tokens.sign(Tokens.claims("bench", Tokens.rights(List.of(">"), List.of(">"), List.of(),
                List.of(), false)));
        assertDurable(durable(Target.SWITCHBOARD, URI.create(server.url() + "?token=" + token)));
        assertThat(durable(Target.SWITCHBOARD, URI.create(server.url())).errors().total()).as("without the token")
                .isPositive();
    }

    @Test
    void durableRedis() throws Exception {
        assertDurable(durable(Target.REDIS, redis().uri()));
    }

    @Test
    void durableNatsJetStream() throws Exception {
        assertDurable(durable(Target.NATS, jetStream().uri()));
    }

    @Test
    void idleSwitchboard() throws Exception {
        server = TestServer.start();
        assertIdle(idle(Target.SWITCHBOARD, URI.create(server.url()), ProcessHandle.current().pid()));
    }

    @Test
    void idleRedis() throws Exception {
        Peer redis = redis();
        assertIdle(idle(Target.REDIS, redis.uri(), redis.pid()));
    }

    @Test
    void idleNats() throws Exception {
        Peer nats = peers.nats();
        assertIdle(idle(Target.NATS, nats.uri(), nats.pid()));
    }

    @Test
    void idleWithoutPidReportsNoMemory() throws Exception {
        server = TestServer.start();
        IdleBenchmark.Report report = idle(Target.SWITCHBOARD, URI.create(server.url()), -1);
        assertThat(report.errors().total()).as(report.toText()).isZero();
        assertThat(report.rssBeforeBytes()).isEqualTo(-1);
        assertThat(report.rssAfterBytes()).isEqualTo(-1);
        assertThat(report.bytesPerConnection()).isEqualTo(-1);
        assertThat(report.rssAfterMessageBytes()).isEqualTo(-1);
        assertThat(report.bytesPerConnectionAfterMessage()).isEqualTo(-1);
    }

    @Test
    void longPollWakesEveryPollWithItsTopicsMessageAfterAWarmUpRoundOnOtherTopics() throws Exception {
        server = TestServer.start();
        String prefix = LongPollBenchmark.Config.freshPrefix();
        LongPollBenchmark.Report report = longPoll(CONNECTIONS / 2, prefix);
        assertLongPoll(report);
        for (int i : new int[] {0, CONNECTIONS / 2 - 1}) {
            assertThat(server.get("/v1/topics/" + prefix + "w" + i).body()).as("warm-up topic %d", i)
                    .contains("\"lastOffset\":1,");
        }
        assertThat(server.get("/v1/topics/" + prefix + "w" + CONNECTIONS / 2).statusCode()).isEqualTo(404);
    }

    @Test
    void longPollWithoutWarmUpTouchesOnlyItsMeasuredTopics() throws Exception {
        server = TestServer.start();
        String prefix = LongPollBenchmark.Config.freshPrefix();
        assertLongPoll(longPoll(0, prefix));
        assertThat(server.get("/v1/topics/" + prefix + "w0").statusCode()).isEqualTo(404);
        assertThat(server.get("/v1/topics/" + prefix + (CONNECTIONS - 1)).body()).contains("\"lastOffset\":1,");
    }

    private LongPollBenchmark.Report longPoll(int warmupPolls, String prefix) throws Exception {
        LongPollBenchmark.Config config = new LongPollBenchmark.Config(URI.create(server.url()), CONNECTIONS,
                warmupPolls, Duration.ofSeconds(30), 1000, ClientIo.Mode.AUTO, 2, prefix);
        return new LongPollBenchmark(config, quiet()).run();
    }

    private static void assertLongPoll(LongPollBenchmark.Report report) throws Exception {
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.errors().total()).isZero();
        assertThat(report.woken()).isEqualTo(CONNECTIONS);
        assertThat(report.latencyMs().samples()).isEqualTo(CONNECTIONS);
        assertThat(report.publishSeconds()).isPositive();
        assertJsonFields(report, "workload", "polls", "woken", "latencyMs", "publishSeconds", "errors",
                "errorSamples");
    }

    private Peer redis() throws Exception {
        return peers.redis("--appendonly", "yes", "--appendfsync", "always");
    }

    private Peer jetStream() throws Exception {
        return peers.nats("-js", "-sd", peers.tempDir().toString());
    }

    private static DurableBenchmark.Report durable(Target target, URI uri) throws Exception {
        DurableBenchmark.Config config = new DurableBenchmark.Config(target, uri, PUBLISHERS, 64,
                Duration.ofMillis(200), Duration.ofSeconds(1), ClientIo.Mode.AUTO, 2, FanoutConfig.freshTopic());
        return new DurableBenchmark(config, quiet()).run();
    }

    private static void assertDurable(DurableBenchmark.Report report) throws Exception {
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.errors().total()).isZero();
        assertThat(report.acked()).isPositive();
        assertThat(report.latencyMs().samples()).isEqualTo(report.acked());
        assertJsonFields(report, "workload", "target", "publishers", "size", "warmupSeconds", "durationSeconds",
                "acked", "ackedPerSecond", "latencyMs", "errors", "errorSamples");
    }

    private static IdleBenchmark.Report idle(Target target, URI uri, long pid) throws Exception {
        IdleBenchmark.Config config = new IdleBenchmark.Config(target, uri, CONNECTIONS, HOLD, pid,
                ClientIo.Mode.AUTO, 2, FanoutConfig.freshTopic());
        return new IdleBenchmark(config, quiet()).run();
    }

    private static void assertIdle(IdleBenchmark.Report report) throws Exception {
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.errors().total()).isZero();
        assertThat(report.delivered()).isEqualTo(CONNECTIONS);
        assertThat(report.rssBeforeBytes()).isPositive();
        assertThat(report.rssAfterBytes()).isPositive();
        assertThat(report.rssAfterMessageBytes()).isPositive();
        assertThat(report.bytesPerConnectionAfterMessage())
                .isEqualTo((report.rssAfterMessageBytes() - report.rssBeforeBytes()) / CONNECTIONS);
        assertJsonFields(report, "workload", "target", "connections", "holdSeconds", "rssBeforeBytes",
                "rssAfterBytes", "bytesPerConnection", "delivered", "rssAfterMessageBytes",
                "bytesPerConnectionAfterMessage", "errors", "errorSamples");
    }

    /** The runner parses {@code --json}: exactly these fields, errors as {@code {"total":N}}. */
    private static void assertJsonFields(BenchReport report, String... fields) throws Exception {
        StringWriter out = new StringWriter();
        assertThat(BenchReport.print(report, true, new PrintWriter(out))).isZero();
        assertThat(out.toString()).hasLineCount(1);
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.fieldNames()).toIterable().containsExactly(fields);
        assertThat(json.get("errors").fieldNames()).toIterable().containsExactly("total");
    }

    private static PrintWriter quiet() {
        return new PrintWriter(new StringWriter(), true);
    }
}
