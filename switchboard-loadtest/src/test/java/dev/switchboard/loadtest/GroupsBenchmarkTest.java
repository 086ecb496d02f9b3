package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A tiny {@code bench groups} run against a real server and a real Redis: every message acknowledged per group. */
@Slow
class GroupsBenchmarkTest {
    @AutoClose
    private final TestServer server = TestServer.start();

    @Test
    void everyGroupAcknowledgesEveryMessageOnSwitchboardAndOnRedis(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"))) {
            GroupsBenchmark.Config config = new GroupsBenchmark.Config(URI.create(server.url()),
                    List.of(URI.create(server.url())), URI.create(redis.uri()), List.of(1, 4), 500, 50, 64);
            GroupsBenchmark.Report report = new GroupsBenchmark(config, new PrintWriter(new StringWriter())).run();
            assertThat(report.errorSamples()).as(report.toText()).isEmpty();
            assertThat(report.runs()).extracting(GroupsBenchmark.Run::target, GroupsBenchmark.Run::members,
                    GroupsBenchmark.Run::messages).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("switchboard", 1, 500L),
                    org.assertj.core.groups.Tuple.tuple("switchboard", 4, 500L),
                    org.assertj.core.groups.Tuple.tuple("redis", 1, 500L),
                    org.assertj.core.groups.Tuple.tuple("redis", 4, 500L));
            assertThat(report.runs()).allMatch(r -> r.messagesPerSecond() > 0);
            assertThat(report.toText()).contains("500 messages of 64 bytes, fetched 50 at a time");
        }
    }

    @Test
    void membersSpreadOverTwoNodesOnRedisAcknowledgeEveryMessageOnce(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             TestServer first = TestServer.start(c -> c.withEngine(redis.uri()));
             TestServer second = TestServer.start(c -> c.withEngine(redis.uri()))) {
            GroupsBenchmark.Config config = new GroupsBenchmark.Config(URI.create(first.url()),
                    List.of(URI.create(first.url()), URI.create(second.url())), null, List.of(4), 500, 50, 64);
            GroupsBenchmark.Report report = new GroupsBenchmark(config, new PrintWriter(new StringWriter())).run();
            assertThat(report.errorSamples()).as(report.toText()).isEmpty();
            assertThat(report.runs()).extracting(GroupsBenchmark.Run::members, GroupsBenchmark.Run::messages)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(4, 500L));
        }
    }

    @Test
    void aBatchOutsideOneToAThousandIsAUsageError() {
        StringWriter err = new StringWriter();
        CommandLine bench = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err));
        assertThat(bench.execute("groups", "--batch", "1001", "--server", server.url())).isEqualTo(2);
        assertThat(err.toString()).contains("--batch 1-1000");
    }
}
