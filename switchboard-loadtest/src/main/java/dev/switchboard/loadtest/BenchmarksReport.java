package dev.switchboard.loadtest;

import dev.switchboard.loadtest.BenchResults.Result;
import dev.switchboard.loadtest.BenchResults.Stat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Turns a {@code bench/run} into the generated part of BENCHMARKS.md: machine facts, one table per workload with
 * each target of issue 4 and its verdict, and the exact commands. Only the text between {@link #BEGIN} and
 * {@link #END} is ever rewritten, so the hand-written analysis around it survives every run.
 */
public final class BenchmarksReport {
    public static final String BEGIN = "<!-- bench/run:begin -->";
    public static final String END = "<!-- bench/run:end -->";

    /** A table column: a figure of every run, shown as median (range). */
    record Column(String header, ToDoubleFunction<Result> metric, int decimals) {
        static Column of(String header, String pointer, int decimals) {
            return new Column(header, r -> r.value(pointer), decimals);
        }
    }

    /**
     * A target against one peer (issues 4 and 14): Switchboard ÷ peer at least (or, lower is better, at most) {@code limit}.
     * {@code variant}: the target holds for that one workload of the kind only (null: for all of them).
     */
    record Goal(String peer, double limit, Variant variant) {
        Goal(String peer, double limit) {
            this(peer, limit, null);
        }

        boolean covers(String workload, String target) {
            return peer.equals(target) && (variant == null || variant.workload.equals(workload));
        }
    }

    /** A target on one workload's own figure, in the words: jobs-1's "1 caller p50 ≤ BullMQ's". */
    record Variant(String workload, Column measure, boolean higherIsBetter, String text) {
    }

    /**
     * A kind of workload (the runner's workload name up to its first '-'; {@code fanout-1000} is a fan-out to
     * 1,000 subscribers). {@code measures} are what the goals compare, each on its own (a goal is met when every
     * measure meets it); the server's CPU time is shown per 1,000 {@code perCpu} at the rate {@code throughput}
     * (both null: not a throughput workload); {@code absoluteLimit} is a bound on Switchboard's own first measure
     * when the target is not a ratio.
     */
    record Kind(String name, String title, List<Column> measures, boolean higherIsBetter, List<Column> columns,
                List<Goal> goals, String perCpu, Column throughput, double absoluteLimit, String note) {
        String goalText(Goal goal) {
            return goal.variant != null ? goal.variant.text
                    : (higherIsBetter ? "≥ " : "≤ ") + number(goal.limit, 1) + "×";
        }

        /** What {@code goal} compares: the kind's measures, or its variant's own. */
        List<Column> measures(Goal goal) {
            return goal.variant == null ? measures : List.of(goal.variant.measure);
        }

        boolean met(Goal goal, double ratio) {
            boolean higher = goal.variant == null ? higherIsBetter : goal.variant.higherIsBetter;
            return higher ? ratio >= goal.limit : ratio <= goal.limit;
        }
    }

    private static final Column DELIVERED = Column.of("delivered msgs/s", "/deliveredPerSecond", 0);
    private static final Column REQUESTS = Column.of("requests/s", "/requestsPerSecond", 0);
    private static final Column ACKED = Column.of("acked msgs/s", "/ackedPerSecond", 0);
    private static final Column BYTES_PER_CONNECTION = Column.of("bytes/connection", "/bytesPerConnection", 0);
    private static final Column BYTES_PER_CONNECTION_AFTER_MESSAGE = Column.of("bytes/connection after a message",
            "/bytesPerConnectionAfterMessage", 0);
    private static final Column JOBS = Column.of("jobs/s", "/jobsPerSecond", 0);
    private static final Column P50 = Column.of("p50 ms", "/latencyMs/p50", 2);
    private static final Column P99 = Column.of("p99 ms", "/latencyMs/p99", 2);
    private static final Column P999 = Column.of("p99.9 ms", "/latencyMs/p999", 2);

    static final String STALLED = "stalled";
    static final String STALLED_CONTROL = "stalled-control";
    /** The bound on what stalled readers may add to the server's RSS over a control run. */
    static final double STALLED_GROWTH_LIMIT_MIB = 64;
    private static final double MIB = 1024 * 1024;
    private static final Column GROWTH_AT_PEAK = growth("growth at peak", "/rssPeakBytes");
    private static final Column GROWTH_AFTER_SETTLE = growth("growth after settle", "/rssAfterSettleBytes");
    private static final List<Column> STALLED_COLUMNS = List.of(
            Column.of("subscribers", "/subscribers", 0),
            new Column("published MiB", mib(r -> r.value("/bytes")), 1),
            Column.of("publish msgs/s", "/publishedPerSecond", 0),
            new Column("RSS before", mib(r -> r.value("/rssBeforeBytes")), 1),
            new Column("RSS peak", mib(r -> r.value("/rssPeakBytes")), 1),
            new Column("RSS after settle", mib(r -> r.value("/rssAfterSettleBytes")), 1),
            GROWTH_AT_PEAK, GROWTH_AFTER_SETTLE,
            Column.of("closed by the server", "/subscribersClosed", 0));

    static final List<Kind> KINDS = List.of(
            new Kind("fanout", "Fan-out as fast as possible, 64 B, 1 topic → N subscribers", List.of(DELIVERED), true,
                    List.of(Column.of("published msgs/s", "/publishedPerSecond", 0), DELIVERED, P99),
                    List.of(new Goal("nats", 1.0), new Goal("redis", 1.5)), "deliveries", DELIVERED, Double.NaN,
                    "Switchboard: WebSocket subscribers, HTTP publishers; Redis: pub/sub over RESP; NATS: core "
                            + "protocol. Publishing outruns delivery here, so latency is backlog."),
            new Kind("fixed", "Fan-out at a fixed 1,000 msgs/s, 64 B: publish → deliver latency", List.of(P99), false,
                    List.of(DELIVERED, P50, P99, P999), List.of(new Goal("nats", 1.0)), "deliveries", DELIVERED,
                    Double.NaN,
                    "The ratio is Switchboard's p99 ÷ the peer's: at most 1.0 meets the target."),
            new Kind("wrk", "HTTP publish over keep-alive (wrk, 64 connections)",
                    List.of(REQUESTS), true, List.of(REQUESTS, P50, P99),
                    List.of(new Goal("nginx", 0.8),
                            new Goal("nginx", 2.0, new Variant("wrk", P99, false, "p99 ≤ 2× nginx's"))),
                    "requests", REQUESTS,
                    Double.NaN,
                    "Switchboard: `POST /v1/topics/bench.wrk/messages` with a 64-byte body (stored, 201); "
                            + "nginx: the same POST answered by `return 200 \"hello\"`, same number of cores."),
            new Kind("durable", "Durable publish, 64 closed-loop publishers, 64 B",
                    List.of(ACKED), true, List.of(ACKED, P50, P99),
                    List.of(new Goal("redis", 1.0),
                            new Goal("redis", 1.0, new Variant("durable", P99, false, "p99 ≤ Redis's")),
                            new Goal("nats", 1.0), new Goal("nats-sync", 1.0)), "acks", ACKED,
                    Double.NaN,
                    "Switchboard `--fsync always` and Redis `appendonly yes, appendfsync always` (XADD) fsync "
                            + "before they answer. `nats` is JetStream file storage with its defaults, which do "
                            + "**not** fsync per message (it syncs every 2 minutes); `nats-sync` sets "
                            + "`sync_interval: always`, measured only where nats-server supports it (2.10+)."),
            new Kind("idle", "Idle WebSocket subscribers held open",
                    List.of(BYTES_PER_CONNECTION, BYTES_PER_CONNECTION_AFTER_MESSAGE), false,
                    List.of(Column.of("connections", "/connections", 0), BYTES_PER_CONNECTION,
                            BYTES_PER_CONNECTION_AFTER_MESSAGE),
                    List.of(new Goal("redis", 1.0)), null, null, Double.NaN,
                    "Server RSS growth per connection: held before any message, and once one message has reached "
                            + "every connection. \"Switchboard ÷ target\" gives both ratios (before / after the "
                            + "message); the target holds for both. NATS is shown beside them, without a target."),
            new Kind("longpoll", "Held long polls, then one publish to each topic: wake latency", List.of(P99), false,
                    List.of(Column.of("polls", "/polls", 0), Column.of("woken", "/woken", 0), P50, P99, P999),
                    List.of(), null, null, 5.0, "Target: p99 below 5 ms."),
            new Kind("jobs", "Jobs end to end, 64 B: submit → result", List.of(JOBS), true,
                    List.of(JOBS, P50, P99, P999),
                    List.of(new Goal("bullmq", 1.0, new Variant("jobs-64", JOBS, true, "≥ 1.0× BullMQ")),
                            new Goal("bullmq", 1.0, new Variant("jobs-1", P50, false, "1 caller p50 ≤ BullMQ's"))),
                    "jobs", JOBS, Double.NaN,
                    "Closed loop: each caller submits a job and waits for its result; workers complete it at once. "
                            + "`jobs-64` is 64 callers on 16 workers, `jobs-1` one caller and one worker. "
                            + "Switchboard (`--fsync never`): `bench jobs`, submit with `?wait=`, workers claim and "
                            + "complete over HTTP; BullMQ (Redis without persistence): `bench/bullmq/jobs.mjs`, "
                            + "`queue.add` then `job.waitUntilFinished(queueEvents)`, one Worker with concurrency "
                            + "16 or 1, in one Node.js process; its server CPU is Redis's. The ratio is jobs/s for "
                            + "`jobs-64` (at least 1.0 meets) and p50 for `jobs-1` (at most 1.0 meets)."));

    private final BenchResults results;
    private final String commit;
    private final String plotLink;

    /** {@code plotLink}: the plot's path relative to BENCHMARKS.md, or null when none was drawn. */
    public BenchmarksReport(BenchResults results, String commit, String plotLink) {
        this.results = results;
        this.commit = commit;
        this.plotLink = plotLink;
    }

    static Kind kind(String workload) {
        String name = workload.split("-", 2)[0];
        return KINDS.stream().filter(k -> k.name.equals(name)).findFirst().orElse(null);
    }

    /** The generated section, markers included. */
    public String section() {
        StringBuilder md = new StringBuilder();
        md.append(BEGIN).append("\n\n");
        md.append("## Results of `bench/run` (").append(results.machine("date")).append(", commit ")
                .append(commit).append(")\n\n");
        if (results.machine().path("quick").asBoolean()) {
            md.append("**A `--quick` smoke run**: tiny durations and counts, not a measurement.\n\n");
        }
        md.append("Generated by `bench/run` from its `results.jsonl`; do not edit between the markers. Each figure is "
                + "the median of ").append(results.machine("runs")).append(" runs (range in brackets). "
                + "\"Switchboard ÷ peer\" divides run k of Switchboard by run k of the peer, taken minutes apart "
                + "in the same invocation, and gives the median (range) of those ratios; the verdict is on that "
                + "median. Server CPU is the server's (or peer's) user + system time over the whole load-tool run "
                + "(warmup included), per 1,000 deliveries, requests, acks or jobs over the same time: it compares "
                + "the servers' efficiency even where the load tool is the bottleneck.\n\n");
        appendMachine(md);
        for (Kind kind : KINDS) {
            appendKind(md, kind);
        }
        appendStalled(md);
        if (plotLink != null) {
            md.append("![publish → deliver latency at 1,000 msgs/s; durable ack and long-poll wake p99](")
                    .append(plotLink).append(")\n\n");
        }
        appendCommands(md);
        md.append(END).append('\n');
        return md.toString();
    }

    private void appendMachine(StringBuilder md) {
        md.append("Machine: ").append(results.machine("nproc")).append(" cores (").append(results.machine("cpu"))
                .append("), ").append(results.machine("ram")).append(" RAM, ").append(results.machine("kernel"))
                .append("; ").append(results.machine("jdk")).append(".  \nPeers: ").append(results.machine("redis"))
                .append("; ").append(results.machine("nats")).append("; ").append(results.machine("nginx"))
                .append("; ").append(results.machine("wrk"));
        if (!results.machine().path("bullmq").asText("").isEmpty()) {
            md.append("; BullMQ ").append(results.machine("bullmq")).append(" on Node.js ")
                    .append(results.machine("node"));
        }
        md.append(".  \nPinning: ")
                .append(results.machine("pinning")).append("; Switchboard `--io-threads 1`, nginx "
                        + "`worker_processes 1`, `wrk -t1`. Unpinned: no `taskset`, Switchboard's default threads "
                        + "(one per core), nginx one worker per core, `wrk -t<cores>`. Durable, idle, long-poll and "
                        + "stalled-reader runs are pinned only, jobs runs unpinned only.\n\n");
    }

    private void appendKind(StringBuilder md, Kind kind) {
        List<String> workloads = results.distinct(Result::workload).stream()
                .filter(w -> kind(w) == kind).toList();
        if (workloads.isEmpty()) {
            return;
        }
        md.append("### ").append(kind.title).append("\n\n").append(kind.note);
        if (kind.name.equals("durable") && !results.machine().path("natsJetStreamSyncAlways").asBoolean(true)) {
            md.append(" This nats-server rejects `sync_interval`, so there is no `nats-sync` row.");
        }
        md.append("\n\n");
        StringBuilder header = new StringBuilder("| mode | workload | target |");
        StringBuilder rule = new StringBuilder("| --- | --- | --- |");
        for (Column c : kind.columns) {
            header.append(' ').append(c.header).append(" |");
            rule.append(" ---: |");
        }
        if (kind.perCpu != null) {
            header.append(" server CPU ms / 1,000 ").append(kind.perCpu).append(" |");
            rule.append(" ---: |");
        }
        header.append(" Switchboard ÷ target | target | verdict | errors |");
        rule.append(" ---: | --- | --- | ---: |");
        md.append(header).append('\n').append(rule).append('\n');
        for (String mode : results.distinct(Result::mode)) {
            for (String workload : workloads) {
                for (String target : results.distinct(Result::target)) {
                    if (!results.of(mode, workload, target).isEmpty()) {
                        appendRow(md, kind, mode, workload, target);
                    }
                }
            }
        }
        md.append('\n');
    }

    private void appendRow(StringBuilder md, Kind kind, String mode, String workload, String target) {
        md.append("| ").append(mode).append(" | ").append(workload).append(" | ").append(target).append(" |");
        for (Column c : kind.columns) {
            md.append(' ').append(format(results.stat(mode, workload, target, c.metric), c.decimals)).append(" |");
        }
        if (kind.perCpu != null) {
            md.append(' ').append(format(results.stat(mode, workload, target, cpuPerThousand(kind)), 2))
                    .append(" |");
        }
        long errors = results.errors(mode, workload, target);
        String ratio = "—";
        String goal = "";
        String verdict = "";
        if (target.equals(BenchResults.SWITCHBOARD) && !Double.isNaN(kind.absoluteLimit)) {
            Stat own = results.stat(mode, workload, target, kind.measures.getFirst().metric);
            goal = "< " + number(kind.absoluteLimit, 0) + " ms";
            verdict = verdict(own.n() > 0 && own.median() < kind.absoluteLimit, errors);
        }
        // Several goals on one row (throughput and tail against the same peer) are listed side by side.
        List<String> ratioTexts = new ArrayList<>();
        List<String> goalTexts = new ArrayList<>();
        List<String> verdicts = new ArrayList<>();
        for (Goal g : kind.goals) {
            if (g.covers(workload, target)) {
                List<Stat> ratios = kind.measures(g).stream()
                        .map(m -> results.ratio(mode, workload, target, m.metric)).toList();
                ratioTexts.add(String.join(" / ", ratios.stream().map(r -> format(r, 2)).toList()));
                goalTexts.add(kind.goalText(g));
                // A measure older runs did not report yet shows as "—" and is left out of the verdict.
                List<Stat> measured = ratios.stream().filter(r -> r.n() > 0).toList();
                verdicts.add(measured.isEmpty() ? "no Switchboard run"
                        : verdict(measured.stream().allMatch(r -> kind.met(g, r.median())),
                        errors + results.errors(mode, workload, BenchResults.SWITCHBOARD)));
            }
        }
        if (!goalTexts.isEmpty()) {
            ratio = String.join("; ", ratioTexts);
            goal = String.join("; ", goalTexts);
            verdict = String.join("; ", verdicts);
        }
        md.append(' ').append(ratio).append(" | ").append(goal).append(" | ").append(verdict).append(" | ")
                .append(errors).append(" |\n");
    }

    /**
     * Stalled readers: the control run ({@code stalled-control}, every subscriber reading) and the stalled run
     * ({@code stalled}) side by side, then the growth the stalled readers caused: the stalled run's growth less the
     * control's, run by run, against the bound.
     */
    private void appendStalled(StringBuilder md) {
        List<String> modes = results.distinct(Result::mode).stream()
                .filter(m -> !results.of(m, STALLED, BenchResults.SWITCHBOARD).isEmpty()
                        || !results.of(m, STALLED_CONTROL, BenchResults.SWITCHBOARD).isEmpty())
                .toList();
        if (modes.isEmpty()) {
            return;
        }
        md.append("### WebSocket subscribers that stop reading while 1 KiB messages are published\n\n")
                .append("Switchboard only, each run on a fresh server with its defaults (`--slow-consumer-timeout "
                        + "30s`). `stalled`: every subscriber stops reading its socket once subscribed; "
                        + "`stalled-control`: the same publishes, every subscriber reading. Server RSS in MiB; "
                        + "growth is from before subscribing, at the peak (sampled every 250 ms while publishing) "
                        + "and after the settle time (the readers still stalled). The last row is what the stalled "
                        + "readers cost: the stalled run's growth less the control's, run by run; target: under ")
                .append(number(STALLED_GROWTH_LIMIT_MIB, 0)).append(" MiB for both.\n\n");
        md.append("| mode | workload | subscribers | published MiB | publish msgs/s | RSS before | RSS peak | "
                + "RSS after settle | growth at peak | growth after settle | closed by the server | target | "
                + "verdict | errors |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |\n");
        for (String mode : modes) {
            for (String workload : List.of(STALLED_CONTROL, STALLED)) {
                if (results.of(mode, workload, BenchResults.SWITCHBOARD).isEmpty()) {
                    continue;
                }
                md.append("| ").append(mode).append(" | ").append(workload).append(" |");
                for (Column c : STALLED_COLUMNS) {
                    md.append(' ').append(format(results.stat(mode, workload, BenchResults.SWITCHBOARD, c.metric),
                            c.decimals)).append(" |");
                }
                md.append(" | | ").append(results.errors(mode, workload, BenchResults.SWITCHBOARD)).append(" |\n");
            }
            Stat peak = results.difference(mode, STALLED, STALLED_CONTROL, BenchResults.SWITCHBOARD,
                    GROWTH_AT_PEAK.metric);
            Stat settled = results.difference(mode, STALLED, STALLED_CONTROL, BenchResults.SWITCHBOARD,
                    GROWTH_AFTER_SETTLE.metric);
            long errors = results.errors(mode, STALLED, BenchResults.SWITCHBOARD)
                    + results.errors(mode, STALLED_CONTROL, BenchResults.SWITCHBOARD);
            String verdict = peak.n() == 0 || settled.n() == 0 ? "no pair of runs"
                    : verdict(peak.median() < STALLED_GROWTH_LIMIT_MIB && settled.median() < STALLED_GROWTH_LIMIT_MIB,
                    errors);
            md.append("| ").append(mode).append(" | stalled − control | | | | | | | ").append(format(peak, 1))
                    .append(" | ").append(format(settled, 1)).append(" | | < ")
                    .append(number(STALLED_GROWTH_LIMIT_MIB, 0)).append(" MiB | ").append(verdict).append(" | ")
                    .append(errors).append(" |\n");
        }
        md.append('\n');
    }

    /** A memory figure of a report in MiB; NaN when it was not measured (-1). */
    private static ToDoubleFunction<Result> mib(ToDoubleFunction<Result> bytes) {
        return r -> {
            double b = bytes.applyAsDouble(r);
            return b >= 0 ? b / MIB : Double.NaN;
        };
    }

    /** Growth in MiB from {@code rssBeforeBytes} to the reading at {@code pointer}. */
    private static Column growth(String header, String pointer) {
        return new Column(header, r -> {
            double before = r.value("/rssBeforeBytes");
            double after = r.value(pointer);
            return before >= 0 && after >= 0 ? (after - before) / MIB : Double.NaN;
        }, 1);
    }

    /** Server CPU milliseconds per 1,000 units at the kind's throughput over the load tool's time. */
    static ToDoubleFunction<Result> cpuPerThousand(Kind kind) {
        return r -> r.value("/serverCpuSeconds") * 1e6
                / (kind.throughput.metric.applyAsDouble(r) * r.value("/loadSeconds"));
    }

    private static String verdict(boolean met, long errors) {
        return (met ? "met" : "**missed**") + (errors > 0 ? " (runs with errors)" : "");
    }

    private void appendCommands(StringBuilder md) {
        md.append("Exact commands of run 1 (ports and temp dirs change every run; each server is started fresh, "
                + "waited for, measured once and stopped with SIGTERM):\n\n```bash\n");
        int first = results.results().stream().mapToInt(Result::run).min().orElse(1);
        for (Result r : results.results()) {
            if (r.run() == first) {
                md.append("# ").append(r.mode()).append(' ').append(r.workload()).append(' ').append(r.target())
                        .append('\n').append(r.text("serverCommand").strip()).append('\n')
                        .append(r.text("command").strip()).append('\n');
            }
        }
        md.append("```\n\n");
    }

    static String format(Stat s, int decimals) {
        if (s.n() == 0) {
            return "—";
        }
        String median = number(s.median(), decimals);
        return s.n() == 1 || s.min() == s.max() ? median
                : median + " (" + number(s.min(), decimals) + "–" + number(s.max(), decimals) + ")";
    }

    static String number(double value, int decimals) {
        return String.format(Locale.ROOT, "%,." + decimals + "f", value);
    }

    /**
     * {@code document} with the text between the markers replaced by {@code section}; without markers, the section
     * goes just before the heading that follows "## Machine and setup" (at the end when there is none).
     */
    public static String replaceSection(String document, String section) {
        int begin = document.indexOf(BEGIN);
        int end = document.indexOf(END);
        if (begin >= 0 && end > begin) {
            int after = end + END.length();
            if (after < document.length() && document.charAt(after) == '\n') {
                after++;
            }
            return document.substring(0, begin) + section + document.substring(after);
        }
        int setup = document.indexOf("\n## Machine and setup");
        int next = setup < 0 ? -1 : document.indexOf("\n## ", setup + 1);
        if (next < 0) {
            return document + (document.endsWith("\n") ? "\n" : "\n\n") + section;
        }
        return document.substring(0, next + 1) + section + "\n" + document.substring(next + 1);
    }
}
