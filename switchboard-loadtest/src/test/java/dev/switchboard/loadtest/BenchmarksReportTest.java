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
        return line(run, "pinned", workload, target, fields, errors);
    }

    private static String line(int run, String mode, String workload, String target, String fields, int errors) {
        return String.format(Locale.ROOT, "{%s,\"errors\":{\"total\":%d},\"run\":%d,\"mode\":\"%s\",\"workload\":\"%s\","
                + "\"target\":\"%s\",\"serverCpuSeconds\":2.0,\"wallSeconds\":13,\"loadSeconds\":10,"
                + "\"command\":\"bench %s --target %s\",\"serverCommand\":\"serve %s\"}", fields, errors, run,
                mode, workload, target, workload, target, target);
    }

    /** One unpinned jobs run: {@code bench jobs --json}'s figures, or jobs.mjs's for bullmq. */
    private static String jobs(int run, String workload, String target, double jobsPerSecond, double p50, int errors) {
        return line(run, "unpinned", workload, target, String.format(Locale.ROOT, "\"jobsPerSecond\":%.1f,"
                + "\"latencyMs\":{\"samples\":100,\"p50\":%.2f,\"p99\":5,\"p999\":9,\"max\":12}", jobsPerSecond, p50), errors);
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
                // Two targets against Redis on one row: throughput 3,000 ÷ 1,000, and p99 8 ÷ 9 ms
                .contains("| pinned | durable | redis | 1,000 | 2.00 | 9.00 | 200.00 | 3.00; 0.89 | ≥ 1.0×; "
                        + "p99 ≤ Redis's | met; met | 0 |")
                .contains("| pinned | longpoll | switchboard | 10 | 10 | 1.00 | 4.00 | 4.50 | — | < 5 ms | met | 0 |")
                .contains("serve redis\nbench fanout-100 --target redis\n", "there is no `nats-sync` row")
                .doesNotContain("### Idle", "### HTTP publish", "### WebSocket subscribers that stop reading");
    }

    @Test
    void idleShowsBothPerConnectionFiguresAndNeedsBothWithinTheTarget() throws Exception {
        // Switchboard 7,000 B per connection before any message and 9,000 after one; Redis 9,500 and 9,000: the
        // ratios are 0.74 and 1.00, both ≤ 1.0×. NATS has no target. Run 2 predates the after-message figure.
        List<String> lines = new ArrayList<>();
        for (int run = 1; run <= 2; run++) {
            String after = run == 1 ? ",\"bytesPerConnectionAfterMessage\":%d" : "";
            lines.add(line(run, "idle", "switchboard", String.format(Locale.ROOT,
                    "\"connections\":15000,\"bytesPerConnection\":7000" + after, 9000), 0));
            lines.add(line(run, "idle", "redis", String.format(Locale.ROOT,
                    "\"connections\":15000,\"bytesPerConnection\":9500" + after, 9000), 0));
            lines.add(line(run, "idle", "nats", String.format(Locale.ROOT,
                    "\"connections\":15000,\"bytesPerConnection\":21000" + after, 30000), 0));
        }
        String md = section(lines);
        assertThat(md).contains("| mode | workload | target | connections | bytes/connection | bytes/connection after "
                        + "a message | Switchboard ÷ target | target | verdict | errors |")
                .contains("| pinned | idle | switchboard | 15,000 | 7,000 | 9,000 | — |  |  | 0 |")
                .contains("| pinned | idle | redis | 15,000 | 9,500 | 9,000 | 0.74 / 1.00 | ≤ 1.0× | met | 0 |")
                .contains("| pinned | idle | nats | 15,000 | 21,000 | 30,000 | — |  |  | 0 |");

        lines.set(1, lines.get(1).replace("\"bytesPerConnectionAfterMessage\":9000", "\"bytesPerConnectionAfterMessage\":8000"));
        assertThat(section(lines)).as("after the message, Switchboard ÷ Redis is 9,000 / 8,000")
                .contains("| pinned | idle | redis | 15,000 | 9,500 | 8,000 | 0.74 / 1.13 | ≤ 1.0× | "
                        + "**missed** | 0 |");
    }

    @Test
    void stalledReadersAreComparedWithTheirControlRunRunByRun() throws Exception {
        // Control: 100 MiB before, 150 at the peak, 120 after the settle, every run. Stalled: the same start, peaks of
        // 180, 300, 200 and 130, 250, 140 after the settle: 30, 150, 50 and 10, 130, 20 MiB more growth than the
        // control, medians 50 and 20, both under 64 MiB.
        List<String> lines = new ArrayList<>();
        double[] peak = {180, 300, 200};
        double[] settled = {130, 250, 140};
        for (int run = 1; run <= 3; run++) {
            lines.add(line(run, "stalled-control", "switchboard", stalled(false, 150, 120, 0), 0));
            lines.add(line(run, "stalled", "switchboard", stalled(true, peak[run - 1], settled[run - 1], 3), 0));
        }
        lines.add(line(1, "idle", "switchboard", "\"bytesPerConnection\":7000", 0));
        String md = section(lines);
        assertThat(md).contains("### WebSocket subscribers that stop reading", "under 64 MiB for both")
                .contains("| mode | workload | subscribers | published MiB | publish msgs/s | RSS before | RSS peak | "
                        + "RSS after settle | growth at peak | growth after settle | closed by the server | target | "
                        + "verdict | errors |")
                .contains("| pinned | stalled-control | 50 | 200.0 | 20,000 | 100.0 | 150.0 | 120.0 | 50.0 | 20.0 | 0 "
                        + "| | | 0 |")
                .contains("| pinned | stalled | 50 | 200.0 | 20,000 | 100.0 | 200.0 (180.0–300.0) | 140.0 (130.0–250.0) "
                        + "| 100.0 (80.0–200.0) | 40.0 (30.0–150.0) | 3 | | | 0 |")
                .contains("| pinned | stalled − control | | | | | | | 50.0 (30.0–150.0) | 20.0 (10.0–130.0) | | "
                        + "< 64 MiB | met | 0 |")
                .contains("stalled-reader runs are pinned only");
        for (String row : md.lines().filter(l -> l.startsWith("| pinned | stalled")).toList()) {
            assertThat(row.split("\\|", -1)).as(row).hasSize(16); // 14 cells between 15 bars
        }

        lines.replaceAll(l -> l.replace("\"rssAfterSettleBytes\":" + (long) (250 * MIB),
                "\"rssAfterSettleBytes\":" + (long) (350 * MIB)));
        lines.add(line(4, "stalled", "switchboard", stalled(true, 400, 400, 50), 2));
        lines.add(line(4, "stalled-control", "switchboard", stalled(false, 150, 120, 0), 0));
        assertThat(section(lines)).as("after the settle: 10, 230, 20, 280 MiB over the control, median 125")
                .contains("| pinned | stalled − control | | | | | | | 100.0 (30.0–250.0) | 125.0 (10.0–280.0) | | "
                        + "< 64 MiB | **missed** (runs with errors) | 2 |");
    }

    private static final double MIB = 1024 * 1024;

    /** A stalled-reader report: 50 subscribers, 200 MiB at 20,000 msgs/s, 100 MiB before; the rest in MiB. */
    private static String stalled(boolean stalled, double peakMib, double afterSettleMib, int closed) {
        return String.format(Locale.ROOT, "\"subscribers\":50,\"stalled\":%b,\"bytes\":%d,\"publishedPerSecond\":20000,"
                + "\"rssBeforeBytes\":%d,\"rssPeakBytes\":%d,\"rssAfterSettleBytes\":%d,\"subscribersClosed\":%d",
                stalled, (long) (200 * MIB), (long) (100 * MIB), (long) (peakMib * MIB), (long) (afterSettleMib * MIB),
                closed);
    }

    /** The generated section of these results lines, in a directory of their own. */
    private String section(List<String> lines) throws Exception {
        Path own = Files.createTempDirectory(dir, "results");
        Files.write(own.resolve("results.jsonl"), lines);
        Files.copy(dir.resolve("machine.json"), own.resolve("machine.json"));
        return new BenchmarksReport(BenchResults.read(own), "abc1234", null).section();
    }

    /**
     * jobs-64 is judged on jobs/s (Switchboard 3,000, 2,000, 4,000 against BullMQ's 2,000: ratios 1.5, 1.0, 2.0),
     * jobs-1 on its p50 (1.2, 0.8, 1.0 ms against 1.0 ms: ratios 1.2, 0.8, 1.0, median 1.0), each only on its own row.
     */
    @Test
    void jobsAreJudgedOnThroughputWithManyCallersAndOnTheMedianWithOne() throws Exception {
        // Switchboard's jobs-64 jobs/s, jobs-1 p50 and jobs-1 errors, run by run; BullMQ's figures are the same each run.
        double[][] switchboard = {{3000, 1.2, 0}, {2000, 0.8, 1}, {4000, 1.0, 0}};
        List<String> lines = new ArrayList<>();
        for (int run = 1; run <= switchboard.length; run++) {
            double[] sb = switchboard[run - 1];
            lines.addAll(List.of(jobs(run, "jobs-64", "switchboard", sb[0], 20, 0), jobs(run, "jobs-64", "bullmq", 2000, 30, 0),
                    jobs(run, "jobs-1", "switchboard", 900, sb[1], (int) sb[2]), jobs(run, "jobs-1", "bullmq", 700, 1.0, 0)));
        }
        Files.writeString(dir.resolve("machine.json"),
                "{\"date\":\"2026-12-06T10:00:00Z\",\"runs\":3,\"wrk\":\"wrk 4\",\"bullmq\":\"6.7.0\",\"node\":\"v20.20.2\"}");
        String md = section(lines);
        assertThat(md)
                .contains("### Jobs end to end, 64 B: submit → result", "wrk 4; BullMQ 6.7.0 on Node.js v20.20.2.",
                        "jobs runs unpinned only")
                .contains("| mode | workload | target | jobs/s | p50 ms | p99 ms | p99.9 ms | server CPU ms / 1,000 jobs "
                        + "| Switchboard ÷ target | target | verdict | errors |")
                .contains("| unpinned | jobs-64 | switchboard | 3,000 (2,000–4,000) | 20.00 | 5.00 | 9.00 | "
                        + "66.67 (50.00–100.00) | — |  |  | 0 |")
                .contains("| unpinned | jobs-64 | bullmq | 2,000 | 30.00 | 5.00 | 9.00 | 100.00 | 1.50 (1.00–2.00) | "
                        + "≥ 1.0× BullMQ | met | 0 |")
                // Switchboard's run 2 had an error: the verdict says so even though the ratio meets the target
                .contains("| unpinned | jobs-1 | bullmq | 700 | 1.00 | 5.00 | 9.00 | 285.71 | 1.00 (0.80–1.20) | "
                        + "1 caller p50 ≤ BullMQ's | met (runs with errors) | 0 |")
                .contains("| unpinned | jobs-1 | switchboard | 900 | 1.00 (0.80–1.20) | 5.00 | 9.00 | 222.22 | — |  |  | 1 |");
        assertThat(md.lines().filter(l -> l.contains("BullMQ's") || l.contains("≥ 1.0× BullMQ")).count())
                .as("one target per variant, on the peer's row").isEqualTo(2);
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
