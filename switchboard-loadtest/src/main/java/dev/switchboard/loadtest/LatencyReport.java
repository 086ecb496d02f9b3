package dev.switchboard.loadtest;

import org.HdrHistogram.Histogram;

/** Latency percentiles (publish to deliver, or to acknowledgement) in milliseconds, from a histogram of microseconds. */
public record LatencyReport(long samples, double p50, double p99, double p999, double max) {

    static LatencyReport of(Histogram micros) {
        if (micros.getTotalCount() == 0) {
            return new LatencyReport(0, 0, 0, 0, 0);
        }
        return new LatencyReport(micros.getTotalCount(),
                millis(micros.getValueAtPercentile(50)),
                millis(micros.getValueAtPercentile(99)),
                millis(micros.getValueAtPercentile(99.9)),
                millis(micros.getMaxValue()));
    }

    /** The report's text line, {@code latency ms  p50 …}. */
    static String line(LatencyReport l) {
        return String.format(java.util.Locale.ROOT, "latency ms  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%n",
                l.p50(), l.p99(), l.p999(), l.max());
    }

    private static double millis(long micros) {
        return micros / 1000.0;
    }
}
