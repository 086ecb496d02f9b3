package dev.switchboard.loadtest;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench idle}: what idle subscribers cost the server. Opens N subscribers on one topic (WebSocket, Redis
 * {@code SUBSCRIBE} or NATS {@code SUB}), reads the server's resident memory before and once all are subscribed,
 * holds them for a while (answering the server's pings; any drop is an error), reads it again, then publishes one
 * message that every connection must receive, which proves they were all still live, and reads it once more: what
 * a connection costs once the server has written to it.
 */
public final class IdleBenchmark {
    /** Handshakes in flight at once: enough to open thousands quickly, few enough for any accept backlog. */
    private static final int CONNECT_WINDOW = 500;
    /** How long the final message may take to reach every connection. */
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(30);
    private static final int PAYLOAD_SIZE = 64;

    /**
     * Settings of one run.
     *
     * @param serverPid the server's process id, to read its memory from {@code /proc}; -1 when not given
     * @param threads   event-loop threads the connections share
     */
    public record Config(Target target, URI server, int connections, Duration hold, long serverPid,
                         ClientIo.Mode io, int threads, String topic) {
        public Config {
            FanoutConfig.checkServer(target, server);
            FanoutConfig.positive("connections", connections);
            FanoutConfig.positive("threads", threads);
            if (hold.isNegative()) {
                throw new IllegalArgumentException("--hold must not be negative");
            }
        }
    }

    /**
     * The outcome. Memory figures are -1 without a server pid; {@code rssAfterBytes} is the larger of the readings
     * after subscribing and at the end of the hold, {@code rssAfterMessageBytes} the reading once the final message
     * has reached every connection (or the delivery time passed); the per-connection figures are each reading's
     * growth over {@code rssBeforeBytes}, divided by the connections.
     */
    public record Report(String workload, String target, int connections, double holdSeconds, long rssBeforeBytes,
                         long rssAfterBytes, long bytesPerConnection, long delivered, long rssAfterMessageBytes,
                         long bytesPerConnectionAfterMessage, BenchReport.Errors errors, List<String> errorSamples)
            implements BenchReport.Counted {
        @Override
        public String toText() {
            return text(String.format(Locale.ROOT, """
                    idle        %s, %,d connections held %.1f s
                    server rss  %,d before, %,d after: %,d bytes per connection
                    delivered   %,d of %,d
                    after it    %,d server rss: %,d bytes per connection
                    """, target, connections, holdSeconds, rssBeforeBytes, rssAfterBytes, bytesPerConnection,
                    delivered, connections, rssAfterMessageBytes, bytesPerConnectionAfterMessage));
        }
    }

    private final Config config;
    private final PrintWriter err;
    private final Measurements measurements = new Measurements();
    private final PublisherGroup publishers = new PublisherGroup();
    private final SubscriberGroup subscribers = new SubscriberGroup();
    private final ServerMemory memory;

    public IdleBenchmark(Config config, PrintWriter err) {
        this.config = config;
        this.err = err;
        this.memory = ServerMemory.of(config.serverPid(), err);
    }

    /**
     * Runs for the setup, the hold and the final delivery, and returns the report.
     *
     * @throws IOException if the target cannot be reached, refuses a connection, or the pid has no {@code /proc}
     *                     status
     */
    public Report run() throws IOException, InterruptedException {
        long rssBefore = memory.rss();
        long rssAfter;
        long rssAfterMessage;
        try (ClientRun run = new ClientRun(config.server(), config.io(), "bench-idle", config.threads(), measurements,
                publishers, subscribers, err)) {
            subscribers.open(config.connections(), CONNECT_WINDOW, i -> subscriber(run.server),
                    run.subscriberBootstrap(), run.server, run.progress, "subscribed");
            if (config.target() == Target.SWITCHBOARD) {
                subscribers.awaitSubscribedReplies(measurements);
            }
            rssAfter = memory.rss();
            hold(run.progress);
            rssAfter = Math.max(rssAfter, memory.rss());
            publishOne(run.publisherBootstrap(), run.server);
            rssAfterMessage = memory.rss();
        }
        return report(rssBefore, rssAfter, rssAfterMessage);
    }

    private Subscriber<?> subscriber(ServerEndpoint server) {
        return switch (config.target()) {
            case SWITCHBOARD -> new WsSubscriber(measurements, server, config.topic());
            case REDIS -> new RespSubscriber(measurements, config.topic(), 1);
            case NATS -> new NatsSubscriber(measurements, config.topic(), 1);
            case PUSHPIN -> throw new IllegalArgumentException("--target pushpin is for bench fanout");
        };
    }

    /** Waits out the hold; the connections' event loops answer pings and count drops meanwhile. */
    private void hold(ProgressReporter progress) throws InterruptedException {
        long start = System.nanoTime();
        progress.show(() -> String.format(Locale.ROOT, "%6.1fs holding %,d connections, %d errors",
                (System.nanoTime() - start) / 1e9, config.connections(), measurements.errorsTotal()));
        Thread.sleep(config.hold().toMillis());
        progress.stopTicks();
    }

    /** Publishes one message and waits until every subscriber has it, or the delivery time passes. */
    private void publishOne(Bootstrap bootstrap, ServerEndpoint server)
            throws IOException, InterruptedException {
        Payload payload = new Payload(PAYLOAD_SIZE);
        publishers.open(bootstrap, server, switch (config.target()) {
            case SWITCHBOARD -> new HttpPublisher(measurements, server, HttpPublisher.toTopic(config.topic(), payload),
                    1, 0);
            case REDIS -> new RespPublisher(measurements, RespPublisher.Command.PUBLISH, config.topic(), payload, 0,
                    1, 0);
            case NATS -> new NatsPublisher(measurements, config.topic(), payload, 0, 1, 0);
            case PUSHPIN -> throw new IllegalArgumentException("--target pushpin is for bench fanout");
        });
        long now = System.nanoTime();
        publishers.run(measurements, now, now + FanoutBenchmark.SETUP_TIMEOUT.toNanos(), i -> 1,
                FanoutBenchmark.SETUP_TIMEOUT);
        subscribers.awaitReached(publishers.lastOffsets(true), DELIVERY_TIMEOUT);
    }

    private Report report(long rssBefore, long rssAfter, long rssAfterMessage) {
        if (publishers.acked() != 1) {
            measurements.error(ErrorKind.PUBLISH, "the final message was not acknowledged");
        }
        List<FanoutReport.SubscriberErrors> failed = new ArrayList<>();
        OffsetCheck.Result order = subscribers.check(publishers.firstOffsets(true), publishers.lastOffsets(true),
                failed, 0);
        long errors = measurements.errorsTotal() + order.missing() + order.duplicates() + order.outOfOrder();
        List<String> samples = new ArrayList<>(measurements.errorSamples());
        if (order.missing() > 0) {
            samples.add(order.missing() + " connections did not receive the final message");
        }
        return new Report("idle", config.target().name().toLowerCase(Locale.ROOT), config.connections(),
                config.hold().toMillis() / 1000.0, rssBefore, rssAfter, perConnection(rssBefore, rssAfter),
                measurements.delivered.sum(), rssAfterMessage, perConnection(rssBefore, rssAfterMessage),
                new BenchReport.Errors(errors), samples);
    }

    /** Growth from {@code before} to {@code after} per connection, -1 when memory was not measured. */
    private long perConnection(long before, long after) {
        return before >= 0 && after >= 0 ? (after - before) / config.connections() : -1;
    }
}
