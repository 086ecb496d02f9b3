package dev.switchboard.loadtest;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench durable}: closed-loop durable publishing. Each publisher connection sends one message and waits for
 * the target's acknowledgement that it is stored before sending the next, so the figures are what a writer waiting
 * for durability sees: Switchboard's {@code 201} (run under {@code --fsync always}), Redis {@code XADD}'s entry ID
 * (under {@code appendfsync always}) or JetStream's publish acknowledgement (file storage). Latency runs from just
 * before a publish is written to its acknowledgement, for publishes sent after the warmup; acknowledged offsets or
 * sequence numbers must increase on each connection.
 */
public final class DurableBenchmark {
    /** After publishing stops, how long the last acknowledgements may take. */
    private static final Duration DRAIN = Duration.ofSeconds(10);

    /**
     * Settings of one run.
     *
     * @param threads event-loop threads the publisher connections share
     */
    public record Config(Target target, URI server, int publishers, int size, Duration warmup, Duration duration,
                         ClientIo.Mode io, int threads, String topic) {
        public Config {
            FanoutConfig.checkServer(target, server);
            FanoutConfig.checkSize(target, size);
            FanoutConfig.positive("publishers", publishers);
            FanoutConfig.positive("threads", threads);
            if (duration.isZero() || duration.isNegative() || warmup.isNegative()) {
                throw new IllegalArgumentException("--duration must be positive, --warmup not negative");
            }
        }
    }

    /** The outcome; {@code acked} counts publishes sent after the warmup and acknowledged. */
    public record Report(String workload, String target, int publishers, int size, double warmupSeconds,
                         double durationSeconds, long acked, double ackedPerSecond, LatencyReport latencyMs,
                         BenchReport.Errors errors, List<String> errorSamples) implements BenchReport.Counted {
        @Override
        public String toText() {
            return text(String.format(Locale.ROOT, """
                    durable     %s, %d publishers, %d-byte messages
                    measured    %.1f s after %.1f s warmup
                    acked       %,d msgs  %,.0f msgs/s
                    """, target, publishers, size, durationSeconds, warmupSeconds, acked, ackedPerSecond)
                    + LatencyReport.line(latencyMs));
        }
    }

    private final Config config;
    private final PrintWriter err;
    private final Measurements measurements = new Measurements();
    private final PublisherGroup publishers = new PublisherGroup();

    public DurableBenchmark(Config config, PrintWriter err) {
        this.config = config;
        this.err = err;
    }

    /**
     * Runs for warmup + duration (plus the last acknowledgements) and returns the report.
     *
     * @throws IOException if the target cannot be reached or refuses a publisher
     */
    public Report run() throws IOException, InterruptedException {
        ServerEndpoint server = ServerEndpoint.of(config.server());
        ClientIo io = ClientIo.choose(config.io());
        EventLoopGroup loops = io.newGroup("bench-durable", config.threads());
        try (ProgressReporter progress = new ProgressReporter(err)) {
            try {
                connect(io.bootstrap(loops, FanoutBenchmark.SETUP_TIMEOUT), server);
                long start = System.nanoTime();
                long measureStart = start + config.warmup().toNanos();
                measurements.startMeasuringAt(measureStart);
                progress.show(() -> {
                    long now = System.nanoTime();
                    return String.format(Locale.ROOT, "%6.1fs %s  acked %,d", (now - start) / 1e9,
                            ProgressReporter.phase(now, measureStart, config.duration()),
                            measurements.published.sum());
                });
                publishers.run(measurements, start, measureStart + config.duration().toNanos(), i -> Long.MAX_VALUE,
                        DRAIN);
                progress.stopTicks();
            } finally {
                measurements.closeAll();
                publishers.close();
                ClientIo.stop(FanoutBenchmark.CLOSE_TIMEOUT, loops);
            }
        }
        return report();
    }

    private void connect(Bootstrap bootstrap, ServerEndpoint server) throws IOException, InterruptedException {
        Payload payload = new Payload(config.size());
        for (int i = 0; i < config.publishers(); i++) {
            publishers.open(bootstrap, server, switch (config.target()) {
                case SWITCHBOARD -> new HttpPublisher(measurements, server,
                        HttpPublisher.toTopic(config.topic(), payload), 1, 0);
                case REDIS -> new RespPublisher(measurements, RespPublisher.Command.XADD, config.topic(), payload, i,
                        1, 0);
                case NATS -> new JetStreamPublisher(measurements, config.topic(), payload, i, i == 0);
                case PUSHPIN -> throw new IllegalArgumentException("Pushpin stores nothing: --target pushpin is for "
                        + "bench fanout");
            });
        }
    }

    private Report report() {
        if (publishers.acked() == 0) {
            measurements.error(ErrorKind.PUBLISH, "no publish was acknowledged");
        }
        double seconds = config.duration().toNanos() / 1e9;
        long acked = publishers.measuredAcked();
        return new Report("durable", config.target().name().toLowerCase(Locale.ROOT), config.publishers(),
                config.size(), config.warmup().toNanos() / 1e9, seconds, acked,
                Math.round(acked / seconds * 10) / 10.0, LatencyReport.of(measurements.ackLatencyMicros()),
                new BenchReport.Errors(measurements.errorsTotal()), measurements.errorSamples());
    }
}
