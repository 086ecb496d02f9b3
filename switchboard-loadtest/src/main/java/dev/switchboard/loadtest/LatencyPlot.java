package dev.switchboard.loadtest;

import dev.switchboard.loadtest.BenchResults.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The latency chart of a {@code bench/run}, as hand-written SVG (no plotting dependency): left, publish → deliver
 * p50 / p99 / p99.9 at the fixed 1,000 msgs/s for each target and subscriber count; right, the durable ack p99 and
 * the long-poll wake p99. Bars are medians over runs on a log-scale axis, since the targets differ by orders of
 * magnitude. Pinned runs are drawn when there are any (they are the ones every workload has).
 */
public final class LatencyPlot {
    private static final String[] PERCENTILES = {"p50", "p99", "p999"};
    private static final String[] PERCENTILE_LABELS = {"p50", "p99", "p99.9"};
    private static final String[] COLOURS = {"#4e79a7", "#f28e2b", "#e15759"};
    private static final int HEIGHT = 420;
    private static final int TOP = 50;
    private static final int BOTTOM = 340;
    private static final int BAR = 14;

    /** One bar group: a label under the axis and one value per series (NaN: no bar). */
    record Group(String label, double[] values) {
    }

    private final BenchResults results;
    private final String mode;
    private final List<Group> fixed = new ArrayList<>();
    private final List<Group> p99 = new ArrayList<>();

    public LatencyPlot(BenchResults results) {
        this.results = results;
        List<String> modes = results.distinct(Result::mode);
        this.mode = modes.contains("pinned") || modes.isEmpty() ? "pinned" : modes.get(0);
        for (String workload : workloads("fixed")) {
            for (String target : results.distinct(Result::target)) {
                if (!results.of(mode, workload, target).isEmpty()) {
                    double[] values = new double[PERCENTILES.length];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = median(workload, target, "/latencyMs/" + PERCENTILES[i]);
                    }
                    fixed.add(new Group(target + " " + workload.substring("fixed-".length()) + " subs", values));
                }
            }
        }
        for (String workload : workloads("durable")) {
            for (String target : results.distinct(Result::target)) {
                if (!results.of(mode, workload, target).isEmpty()) {
                    p99.add(new Group("ack " + target, new double[] {median(workload, target, "/latencyMs/p99")}));
                }
            }
        }
        for (String workload : workloads("longpoll")) {
            p99.add(new Group("wake " + BenchResults.SWITCHBOARD,
                    new double[] {median(workload, BenchResults.SWITCHBOARD, "/latencyMs/p99")}));
        }
    }

    /** False when the results hold none of the plotted workloads (a run with --only fanout,wrk). */
    public boolean hasData() {
        return !fixed.isEmpty() || !p99.isEmpty();
    }

    public String svg() {
        // Wide enough for the title, and for the last group's slanted label.
        int leftWidth = Math.max(480, 140 + fixed.size() * (PERCENTILES.length * BAR + 24));
        int rightWidth = p99.isEmpty() ? 0 : Math.max(300, 140 + p99.size() * (BAR + 40));
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n", leftWidth + rightWidth + 20, HEIGHT));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        panel(svg, 0, leftWidth, "Publish → deliver latency at 1,000 msgs/s (" + mode + ", median of runs)",
                fixed, PERCENTILE_LABELS);
        if (!p99.isEmpty()) {
            panel(svg, leftWidth + 20, rightWidth, "Durable ack p99, long-poll wake p99", p99, new String[] {"p99"});
        }
        return svg.append("</svg>\n").toString();
    }

    private List<String> workloads(String kind) {
        return results.distinct(Result::workload).stream().filter(w -> w.split("-", 2)[0].equals(kind)).toList();
    }

    private double median(String workload, String target, String pointer) {
        return results.stat(mode, workload, target, r -> r.value(pointer)).median();
    }

    private static void panel(StringBuilder svg, int x0, int width, String title, List<Group> groups,
                              String[] series) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (Group g : groups) {
            for (double v : g.values) {
                if (v > 0) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (hi == 0) {
            lo = 0.1;
            hi = 1;
        }
        double logLo = Math.floor(Math.log10(lo));
        double logHi = Math.max(logLo + 1, Math.ceil(Math.log10(hi)));
        int axisX = x0 + 60;
        svg.append(String.format(Locale.ROOT, "<g class=\"panel\">%n<text x=\"%d\" y=\"20\" font-size=\"13\" "
                + "font-weight=\"bold\">%s</text>%n", x0 + 10, escape(title)));
        svg.append(String.format(Locale.ROOT, "<text transform=\"translate(%d,%d) rotate(-90)\" "
                + "text-anchor=\"middle\">milliseconds (log scale)</text>%n", x0 + 14, (TOP + BOTTOM) / 2));
        for (int decade = (int) logLo; decade <= logHi; decade++) {
            double y = y(Math.pow(10, decade), logLo, logHi);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                    + "stroke=\"#ddd\"/>%n<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    axisX, y, x0 + width - 10, y, axisX - 4, y + 4, decadeLabel(decade)));
        }
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                axisX, TOP, axisX, BOTTOM));
        int x = axisX + 12;
        for (Group g : groups) {
            svg.append("<g class=\"series\" data-series=\"").append(escape(g.label)).append("\">\n");
            for (int i = 0; i < g.values.length; i++) {
                double v = g.values[i];
                if (v > 0) {
                    double top = y(Math.max(v, Math.pow(10, logLo)), logLo, logHi);
                    svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                                    + "fill=\"%s\"><title>%s %s: %.3f ms</title></rect>%n", x + i * BAR, top,
                            BAR - 2, BOTTOM - top, COLOURS[i % COLOURS.length], escape(g.label), series[i], v));
                }
            }
            int groupWidth = g.values.length * BAR;
            svg.append(String.format(Locale.ROOT, "<text transform=\"translate(%d,%d) rotate(30)\">%s</text>%n"
                    + "</g>%n", x + groupWidth / 2 - 4, BOTTOM + 12, escape(g.label)));
            x += groupWidth + (g.values.length == 1 ? 40 : 24);
        }
        for (int i = 0; i < series.length; i++) {   // legend: one line under the title, clear of the bars
            int lx = axisX + i * 60;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"28\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"37\">%s</text>%n", lx, COLOURS[i], lx + 14, series[i]));
        }
        svg.append("</g>\n");
    }

    private static double y(double value, double logLo, double logHi) {
        return BOTTOM - (Math.log10(value) - logLo) / (logHi - logLo) * (BOTTOM - TOP);
    }

    private static String decadeLabel(int decade) {
        return decade >= 0 ? String.format(Locale.ROOT, "%,.0f", Math.pow(10, decade))
                : String.format(Locale.ROOT, "%." + (-decade) + "f", Math.pow(10, decade));
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
