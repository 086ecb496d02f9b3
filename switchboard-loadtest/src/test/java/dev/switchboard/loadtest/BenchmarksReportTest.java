package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class BenchmarksReportTest {
    @TempDir
    Path dir;

    BenchResults results;

    /**
     * Three runs where the ratio of medians and the median of within-run ratios disagree: Switchboard delivers
     * 100, 300, 200 and NATS 100, 100, 400, so the ratio of medians is 2.0 but the runs give 1.0, 3.0, 0.5 (median 1.0).
     */
    @BeforeEach
    void fixture() throws Exception {
        List<String> lines = new ArrayList<>();
        double[] sb = {100, 300, 200};
        double[] nats = {100, 100, 400};
        for (int run = 1; run <= 3; run++) {
            lines.add(fanout(run, "switchboard", sb[run - 1], run, 0));
            lines.add(fanout(run, "nats", nats[run - 1], 2, 0));
            lines.add(fanout(run, "redis", 200, 2, run == 2 ? 3 : 0));
            lines.add(line(run, "longpoll", "switchboard", "\"polls\":10,\"woken\":10,\"latencyMs\":{\"p50\":1,\"p99\":4,\"p999\":4.5}", 0));
            lines.add(line(run, "durable", "switchboard", "\"ackedPerSecond\":3000,\"latencyMs\":{\"p50\":1,\"p99\":8,\"p999\":9}", 0));
            lines.add(line(run, "durable", "redis", "\"ackedPerSecond\":1000,\"latencyMs\":{\"p50\":2,\"p99\":9,\"p999\":12}", 0));
        }
        Files.write(dir.resolve("results.jsonl"), lines);
        Files.writeString(dir.resolve("machine.json"),
                "{\"date\":\"2026-11-23T18:00:00Z\",\"natsJetStreamSyncAlways\":false,\"nproc\":2,\"cpu\":\"Test CPU\",\"runs\":3,\"redis\":\"Redis 7\"}");
        results = BenchResults.read(dir);
    }

    /** One fan-out run both at max rate (delivered/s) and at 1,000 msgs/s (p99 ms). */
    private static String fanout(int run, String target, double delivered, double p99, int errors) {
        return line(run, "fanout-100", target, String.format(Locale.ROOT, "\"deliveredPerSecond\":%.1f,"
                + "\"publishedPerSecond\":1,\"latencyMs\":{\"p50\":1,\"p99\":%.1f,\"p999\":9}", delivered, p99), errors)
                + "\n" + line(run, "fixed-100", target, String.format(Locale.ROOT, "\"deliveredPerSecond\":100000,"
                + "\"latencyMs\":{\"p50\":0.5,\"p99\":%.1f,\"p999\":9}", p99), errors);
    }

    private static String line(int run, String workload, String target, String fields, int errors) {
        return String.format(Locale.ROOT, "{%s,\"errors\":{\"total\":%d},\"run\":%d,\"mode\":\"pinned\",\"workload\":\"%s\","
                + "\"target\":\"%s\",\"serverCpuSeconds\":2.0,\"wallSeconds\":13,\"loadSeconds\":10,"
                + "\"command\":\"bench %s --target %s\",\"serverCommand\":\"serve %s\"}", fields, errors, run,
                workload, target, workload, target, target);
    }

    @Test
    void mediansAndRangesOverRuns() {
        BenchResults.Stat s = results.stat("pinned", "fanout-100", "switchboard", r -> r.value("/deliveredPerSecond"));
        assertThat(s).isEqualTo(new BenchResults.Stat(200, 100, 300, 3));
        assertThat(BenchmarksReport.format(s, 0)).isEqualTo("200 (100–300)");
        assertThat(BenchResults.Stat.of(List.of(4.0, 1.0, 3.0, 2.0)).median()).isEqualTo(2.5);
    }

    @Test
    void ratiosAreTakenWithinEachRun() {
        BenchResults.Stat ratio = results.ratio("pinned", "fanout-100", "nats", r -> r.value("/deliveredPerSecond"));
        assertThat(ratio).isEqualTo(new BenchResults.Stat(1.0, 0.5, 3.0, 3));
    }

    @Test
    void tablesGiveEachTargetItsVerdict() {
        String md = new BenchmarksReport(results, "abc1234", "docs/bench/latency.svg").section();
        assertThat(md).startsWith(BenchmarksReport.BEGIN).endsWith(BenchmarksReport.END + "\n")
                .contains("commit abc1234", "Test CPU", "Redis 7", "![publish → deliver latency")
                // 1.0 ≥ 1.0× NATS; Switchboard ÷ Redis is 0.5, 1.5, 1.0 → 1.0 < 1.5×, and Redis's run 2 had errors
                .contains("| pinned | fanout-100 | nats | 1 | 100 (100–400) | 2.00 | 2,000.00 (500.00–2,000.00) | "
                        + "1.00 (0.50–3.00) | ≥ 1.0× | met | 0 |")
                .contains("| pinned | fanout-100 | redis | 1 | 200 | 2.00 | 1,000.00 | 1.00 (0.50–1.50) | ≥ 1.5× | "
                        + "**missed** (runs with errors) | 3 |")
                // p99 at 1,000 msgs/s: 1, 2, 3 ms against NATS's 2 ms → ratios 0.5, 1, 1.5, median 1.0 ≤ 1.0×
                .contains("| pinned | fixed-100 | nats | 100,000 | 0.50 | 2.00 | 9.00 | 2.00 | 1.00 (0.50–1.50) | ≤ 1.0× | met | 0 |")
                .contains("| pinned | durable | redis | 1,000 | 2.00 | 9.00 | 200.00 | 3.00 | ≥ 1.5× | met | 0 |")
                .contains("| pinned | longpoll | switchboard | 10 | 10 | 1.00 | 4.00 | 4.50 | — | < 5 ms | met | 0 |")
                .contains("serve redis\nbench fanout-100 --target redis\n", "there is no `nats-sync` row")
                .doesNotContain("### Idle", "### HTTP publish");
    }

    @Test
    void replacesOnlyTheMarkedSection() {
        String doc = "# Benchmarks\n\nintro\n\n" + BenchmarksReport.BEGIN + "\nold\n" + BenchmarksReport.END
                + "\n\n## Hand-written\n\nkept\n";
        String updated = BenchmarksReport.replaceSection(doc, BenchmarksReport.BEGIN + "\nnew\n" + BenchmarksReport.END + "\n");
        assertThat(updated).isEqualTo("# Benchmarks\n\nintro\n\n" + BenchmarksReport.BEGIN + "\nnew\n"
                + BenchmarksReport.END + "\n\n## Hand-written\n\nkept\n");
    }

    @Test
    void insertsTheSectionAfterMachineAndSetupWhenUnmarked() {
        String doc = "# B\n\n## Machine and setup\n\nfacts\n\n## Fan-out\n\nold figures\n";
        String section = BenchmarksReport.BEGIN + "\nnew\n" + BenchmarksReport.END + "\n";
        assertThat(BenchmarksReport.replaceSection(doc, section)).isEqualTo(
                "# B\n\n## Machine and setup\n\nfacts\n\n" + section + "\n## Fan-out\n\nold figures\n");
        assertThat(BenchmarksReport.replaceSection("# B\n", section)).isEqualTo("# B\n\n" + section);
    }

    @Test
    void plotIsWellFormedSvgWithEverySeries() throws Exception {
        assertThat(new LatencyPlot(new BenchResults(results.results().stream()
                .filter(r -> r.workload().startsWith("fanout")).toList(), results.machine())).hasData()).isFalse();
        LatencyPlot plot = new LatencyPlot(results);
        assertThat(plot.hasData()).isTrue();
        String svg = plot.svg();
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Element root = factory.newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8))).getDocumentElement();
        assertThat(root.getLocalName()).isEqualTo("svg");
        NodeList groups = root.getElementsByTagName("g");
        List<String> series = new ArrayList<>();
        for (int i = 0; i < groups.getLength(); i++) {
            String name = ((Element) groups.item(i)).getAttribute("data-series");
            if (!name.isEmpty()) {
                series.add(name);
            }
        }
        assertThat(series).containsExactly("switchboard 100 subs", "nats 100 subs", "redis 100 subs", "ack switchboard",
                "ack redis", "wake switchboard");
        assertThat(svg).contains("switchboard 100 subs p99.9: 9.000 ms", "milliseconds (log scale)", "wake switchboard p99: 4.000 ms");
    }
}
