package dev.switchboard.loadtest;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of one {@code bench fanout} run, printed as text or serialised as one JSON object. Counts and
 * rates cover messages published after the warmup; ordering checks cover every message of the run.
 *
 * @param published          publishes acknowledged with {@code 201}
 * @param delivered          deliveries of those messages, over all subscribers
 * @param deliveredPerSecond deliveries over the measured time, stretched to the last delivery if the
 *                           subscribers were still catching up when publishing stopped
 */
public record FanoutReport(String transport, String io, int subscribers, int size, int rate, double warmupSeconds,
                           double durationSeconds, long published, double publishedPerSecond, long delivered,
                           double deliveredPerSecond, LatencyReport latencyMs, Errors errors,
                           List<SubscriberErrors> failedSubscribers, List<String> errorSamples)
        implements BenchReport {

    /** Failure counts; any non-zero count fails the run. */
    public record Errors(long total, long publish, long disconnects, long protocol, long missing, long duplicates,
                         long outOfOrder) {
        static Errors of(long publish, long disconnects, long protocol, OffsetCheck.Result order) {
            return new Errors(publish + disconnects + protocol + order.missing() + order.duplicates()
                    + order.outOfOrder(), publish, disconnects, protocol, order.missing(), order.duplicates(),
                    order.outOfOrder());
        }
    }

    /** The ordering check of one subscriber that did not receive every message exactly once, in order. */
    public record SubscriberErrors(int subscriber, long missing, long duplicates, long outOfOrder) {
    }

    @Override
    public boolean failed() {
        return errors.total() > 0;
    }

    @Override
    public String toText() {
        StringBuilder text = new StringBuilder();
        text.append(format("fanout      %s (%s), %d subscribers, %d-byte messages, rate %s%n", transport, io,
                subscribers, size, rate == 0 ? "max" : rate + "/s"));
        text.append(format("measured    %.1f s after %.1f s warmup%n", durationSeconds, warmupSeconds));
        text.append(format("published   %,d msgs  %,.0f msgs/s%n", published, publishedPerSecond));
        text.append(format("delivered   %,d msgs  %,.0f msgs/s%n", delivered, deliveredPerSecond));
        text.append(LatencyReport.line(latencyMs));
        text.append(format("errors      %d", errors.total()));
        if (failed()) {
            text.append(format(" (publish %d, disconnects %d, protocol %d, missing %d, duplicates %d, out-of-order %d)",
                    errors.publish(), errors.disconnects(), errors.protocol(), errors.missing(),
                    errors.duplicates(), errors.outOfOrder()));
        }
        text.append(System.lineSeparator());
        for (SubscriberErrors s : failedSubscribers) {
            text.append(format("  subscriber %d: missing %d, duplicates %d, out-of-order %d%n",
                    s.subscriber(), s.missing(), s.duplicates(), s.outOfOrder()));
        }
        for (String sample : errorSamples) {
            text.append("  ").append(sample).append(System.lineSeparator());
        }
        return text.toString();
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
