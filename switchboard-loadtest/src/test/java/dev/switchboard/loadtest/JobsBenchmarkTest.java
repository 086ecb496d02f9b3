package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** A short {@code bench jobs} run against a real server: every job completes, whatever the claim size. */
class JobsBenchmarkTest {
    @AutoClose
    private final TestServer server = TestServer.start();

    // Long enough that a cold JVM on a busy machine still completes jobs inside the measured window (1 s saw none).
    private JobsBenchmark.Report run(int claimMax) throws Exception {
        JobsBenchmark.Config config = new JobsBenchmark.Config(URI.create(server.url()), 2, 6, claimMax, 64,
                Duration.ofMillis(500), Duration.ofSeconds(3), JobsBenchmark.Config.freshQueue());
        return new JobsBenchmark(config, new PrintWriter(new StringWriter(), true)).run();
    }

    @Test
    void workersClaimingSeveralJobsAtOnceCompleteThemAll() throws Exception {
        JobsBenchmark.Report report = run(4);
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.errors().total()).isZero();
        assertThat(report.jobs()).isPositive();
        assertThat(report.toText()).contains("2 workers claiming up to 4 jobs each, 6 submitters");

        StringWriter out = new StringWriter();
        assertThat(BenchReport.print(report, true, new PrintWriter(out))).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.fieldNames()).toIterable().containsExactly("workers", "submitters", "claimMax", "size",
                "durationSeconds", "jobs", "jobsPerSecond", "latencyMs", "errors", "errorSamples");
        assertThat(json.get("claimMax").asInt()).isEqualTo(4);
        assertThat(json.at("/errors/total").isNumber()).as("errors as bench report reads them").isTrue();
    }

    @Test
    void workersClaimingOneJobAtATimeCompleteThemAll() throws Exception {
        JobsBenchmark.Report report = run(1);
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.jobs()).isPositive();
        assertThat(report.toText()).contains("2 workers, 6 submitters");
    }

    @Test
    void aClaimMaxOutsideOneToAHundredIsAUsageError() {
        for (String claimMax : List.of("0", "101")) {
            StringWriter err = new StringWriter();
            CommandLine bench = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err));
            assertThat(bench.execute("jobs", "--claim-max", claimMax, "--server", server.url())).isEqualTo(2);
            assertThat(err.toString()).contains("--claim-max 1-100");
        }
    }
}
