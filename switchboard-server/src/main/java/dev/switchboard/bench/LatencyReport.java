package dev.switchboard.bench;

import org.HdrHistogram.Histogram;

/** Publish-to-deliver latency percentiles in milliseconds, from a histogram of microseconds. */
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

    private static double millis(long micros) {
        return micros / 1000.0;
    }
}
