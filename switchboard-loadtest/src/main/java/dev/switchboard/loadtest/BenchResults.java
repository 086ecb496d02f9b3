package dev.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.DoubleBinaryOperator;
import java.util.function.ToDoubleFunction;

/**
 * What one {@code bench/run} invocation measured: {@code results.jsonl} (one load-tool report per line, with the
 * runner's {@code run}, {@code mode}, {@code workload}, {@code target}, {@code serverCpuSeconds}, {@code loadSeconds}
 * and commands added) and {@code machine.json}. Figures are medians over runs; comparisons are ratios taken run
 * by run, so run k of Switchboard is only ever divided by run k of a peer, measured minutes apart.
 */
public record BenchResults(List<Result> results, JsonNode machine) {

    public static final String SWITCHBOARD = "switchboard";

    /** One measurement: a load-tool report and how it was taken. */
    public record Result(int run, String mode, String workload, String target, JsonNode json) {
        /** The number at a JSON pointer ({@code /latencyMs/p99}), NaN when the report has none. */
        public double value(String pointer) {
            JsonNode node = json.at(pointer);
            return node.isNumber() ? node.asDouble() : Double.NaN;
        }

        public long errors() {
            return json.at("/errors/total").asLong(0);
        }

        public String text(String field) {
            return json.path(field).asText("");
        }
    }

    /** Median and range of the values that are numbers; {@code n} = 0 when there are none. */
    public record Stat(double median, double min, double max, int n) {
        static Stat of(List<Double> values) {
            List<Double> sorted = values.stream().filter(v -> !v.isNaN() && !v.isInfinite()).sorted().toList();
            int n = sorted.size();
            if (n == 0) {
                return new Stat(Double.NaN, Double.NaN, Double.NaN, 0);
            }
            double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
            return new Stat(median, sorted.get(0), sorted.get(n - 1), n);
        }
    }

    public static BenchResults read(Path dir) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        List<Result> results = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("results.jsonl"))) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode json = mapper.readTree(line);
            results.add(new Result(json.path("run").asInt(), json.path("mode").asText(),
                    json.path("workload").asText(), json.path("target").asText(), json));
        }
        Path machine = dir.resolve("machine.json");
        return new BenchResults(results, Files.exists(machine) ? mapper.readTree(machine.toFile())
                : mapper.createObjectNode());
    }

    /** Distinct values of a field, in the order the runner measured them. */
    public List<String> distinct(java.util.function.Function<Result, String> field) {
        Set<String> seen = new LinkedHashSet<>();
        results.forEach(r -> seen.add(field.apply(r)));
        return List.copyOf(seen);
    }

    public List<Result> of(String mode, String workload, String target) {
        return results.stream().filter(r -> r.mode.equals(mode) && r.workload.equals(workload)
                && r.target.equals(target)).toList();
    }

    public Stat stat(String mode, String workload, String target, ToDoubleFunction<Result> metric) {
        return Stat.of(of(mode, workload, target).stream().map(metric::applyAsDouble).toList());
    }

    /** Switchboard's metric divided by the peer's, run by run; runs missing either side are left out. */
    public Stat ratio(String mode, String workload, String peer, ToDoubleFunction<Result> metric) {
        return paired(of(mode, workload, SWITCHBOARD), of(mode, workload, peer), metric, (a, b) -> a / b);
    }

    /**
     * One workload's metric less another's, both of {@code target}, run by run (a measurement against its control
     * run); runs missing either side are left out.
     */
    public Stat difference(String mode, String workload, String control, String target,
                           ToDoubleFunction<Result> metric) {
        return paired(of(mode, workload, target), of(mode, control, target), metric, (a, b) -> a - b);
    }

    /** {@code op} of each result of {@code left} and the result of {@code right} from the same run. */
    private static Stat paired(List<Result> left, List<Result> right, ToDoubleFunction<Result> metric,
                               DoubleBinaryOperator op) {
        Map<Integer, Result> byRun = new java.util.HashMap<>();
        right.forEach(r -> byRun.put(r.run, r));
        return Stat.of(left.stream()
                .filter(r -> byRun.containsKey(r.run))
                .map(r -> op.applyAsDouble(metric.applyAsDouble(r), metric.applyAsDouble(byRun.get(r.run))))
                .toList());
    }

    public long errors(String mode, String workload, String target) {
        return of(mode, workload, target).stream().mapToLong(Result::errors).sum();
    }

    public String machine(String field) {
        return Objects.requireNonNullElse(machine.path(field).asText(null), "?");
    }
}
