package dev.switchboard.loadtest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code switchboard bench report}: the tables and plot of a {@code bench/run}, from its results directory. */
@Command(name = "report",
        mixinStandardHelpOptions = true,
        description = {
            "Summarise a bench/run: medians and ranges over runs, Switchboard ÷ peer ratios taken within each run, "
                    + "each target of issue 4 met or missed, the exact commands and the machine.",
            "Rewrites only the part of --benchmarks between <!-- bench/run:begin --> and <!-- bench/run:end --> "
                    + "(inserted after the \"Machine and setup\" section when absent); without --benchmarks, "
                    + "prints that part."})
public final class BenchReportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--results", required = true,
            description = "bench/run's output directory: results.jsonl and machine.json.")
    Path results;

    @Option(names = "--benchmarks", description = "Markdown file to update in place (BENCHMARKS.md).")
    Path benchmarks;

    @Option(names = "--plot", description = "SVG latency plot to write (docs/bench/latency.svg).")
    Path plot;

    @Option(names = "--commit", defaultValue = "unknown", description = "Commit measured. Default: ${DEFAULT-VALUE}")
    String commit;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(results.resolve("results.jsonl"))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no results.jsonl in " + results);
        }
        BenchResults read = BenchResults.read(results);
        String link = null;
        LatencyPlot chart = new LatencyPlot(read);
        if (plot != null && chart.hasData()) {
            Files.createDirectories(plot.toAbsolutePath().getParent());
            Files.writeString(plot, chart.svg(), StandardCharsets.UTF_8);
            Path base = benchmarks == null ? Path.of("") : benchmarks.toAbsolutePath().getParent();
            link = base.toAbsolutePath().relativize(plot.toAbsolutePath()).toString();
        }
        String section = new BenchmarksReport(read, commit, link).section();
        if (benchmarks == null) {
            spec.commandLine().getOut().print(section);
            spec.commandLine().getOut().flush(); // print() does not flush, and the JVM exits right after
        } else {
            String document = Files.exists(benchmarks) ? Files.readString(benchmarks) : "";
            Files.writeString(benchmarks, BenchmarksReport.replaceSection(document, section), StandardCharsets.UTF_8);
            spec.commandLine().getErr().println("updated " + benchmarks + (link == null ? "" : " and " + plot));
        }
        return 0;
    }
}
