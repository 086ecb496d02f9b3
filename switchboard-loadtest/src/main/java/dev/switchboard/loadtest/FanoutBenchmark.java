package dev.switchboard.loadtest;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.FanoutConfig.Transport;
import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One publisher side, many subscribers, one topic, against a running server. The run goes through these
 * steps, each bounded in time:
 *
 * <ol>
 *   <li>connect the publisher connections (an unreachable server fails here);
 *   <li>connect the subscribers, at most {@value #HANDSHAKE_WINDOW} handshakes at a time, and wait until every
 *       one is subscribed (and, over WebSocket, for the server's {@code subscribed} replies if it sends them);
 *   <li>publish for warmup + duration; only messages sent after the warmup count in the figures;
 *   <li>drain: wait until every subscriber has received the last published offset, or the drain time passes;
 *   <li>close everything and report. Any error, missing, duplicate or out-of-order delivery fails the run.
 * </ol>
 *
 * Subscribers and publishers run on separate event loops, so a busy subscriber loop does not delay sends.
 *
 * <p>The same run drives a peer instead ({@link Target}): Redis pub/sub over RESP or core NATS, with the same
 * pacing, measurements and checks. Peers assign no offsets, so each publisher numbers its messages and every
 * subscriber checks each publisher's sequence on its own.
 */
public final class FanoutBenchmark {
    /** Limit on connecting and subscribing one connection. */
    static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);
    private static final int HANDSHAKE_WINDOW = 200;
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_REPORTED_SUBSCRIBERS = 10;
    /** At full speed, how far subscribers may fall behind on average before publishers wait for them. */
    private static final long MAX_BACKLOG_PER_SUBSCRIBER = 1000;

    private final FanoutConfig config;
    private final PrintWriter err;
    private final Measurements measurements = new Measurements();
    private final PublisherGroup publishers = new PublisherGroup();
    private final SubscriberGroup subscribers = new SubscriberGroup();
    private long measureStartNanos;

    public FanoutBenchmark(FanoutConfig config, PrintWriter err) {
        this.config = config;
        this.err = err;
    }

    /**
     * Runs the benchmark and returns its report; blocks for warmup + duration + drain.
     *
     * @throws IOException if the server cannot be reached or refuses a subscription
     */
    public FanoutReport run() throws IOException, InterruptedException {
        ServerEndpoint server = ServerEndpoint.of(config.server());
        ClientIo io = ClientIo.choose(config.io());
        EventLoopGroup publisherLoops = io.newGroup("bench-publisher", 1);
        EventLoopGroup subscriberLoops = io.newGroup("bench-subscriber", config.threads());
        try (ProgressReporter progress = new ProgressReporter(err)) {
            try {
                connectPublishers(io.bootstrap(publisherLoops, SETUP_TIMEOUT), server);
                connectSubscribers(io.bootstrap(subscriberLoops, SETUP_TIMEOUT), server, progress);
                publish(progress);
                drain(progress);
            } finally {
                closeAll();
                ClientIo.stop(CLOSE_TIMEOUT, publisherLoops, subscriberLoops);
            }
        }
        // The loops have stopped: what their threads wrote is visible here.
        return report(io);
    }

    private void connectPublishers(Bootstrap bootstrap, ServerEndpoint server) throws IOException, InterruptedException {
        if (config.rate() == 0) {
            measurements.boundBacklog(config.subscribers(), MAX_BACKLOG_PER_SUBSCRIBER);
        }
        Payload payload = new Payload(config.size());
        double ratePerConnection = (double) config.rate() / config.publishers();
        for (int i = 0; i < config.publishers(); i++) {
            publishers.open(bootstrap, server, switch (config.target()) {
                case SWITCHBOARD -> config.batch() > 1
                        ? new HttpBatchPublisher(measurements, server, config.topic(), payload, config.inflight(),
                                config.batch(), ratePerConnection)
                        : new HttpPublisher(measurements, server, HttpPublisher.toTopic(config.topic(), payload),
                                config.inflight(), ratePerConnection);
                case REDIS -> new RespPublisher(measurements, RespPublisher.Command.PUBLISH, config.topic(), payload,
                        i, config.inflight(), ratePerConnection);
                case NATS -> new NatsPublisher(measurements, config.topic(), payload, i, config.inflight(),
                        ratePerConnection);
                case PUSHPIN -> new PushpinPublisher(measurements, server, config.topic(), payload, i,
                        config.inflight(), ratePerConnection);
            });
        }
    }

    private void connectSubscribers(Bootstrap bootstrap, ServerEndpoint server, ProgressReporter progress)
            throws IOException, InterruptedException {
        List<ServerEndpoint> nodes = new ArrayList<>();
        for (URI node : config.subscribeTo()) {
            nodes.add(ServerEndpoint.of(node));
        }
        if (nodes.isEmpty()) {
            nodes.add(server);
        }
        IntFunction<ServerEndpoint> nodeOf = i -> nodes.get(i % nodes.size());
        subscribers.open(config.subscribers(), HANDSHAKE_WINDOW, i -> switch (config.target()) {
            case SWITCHBOARD -> config.transport() == Transport.WS
                    ? new WsSubscriber(measurements, nodeOf.apply(i), config.topic())
                    : config.transport() == Transport.SSE_PATTERN ? new SseSubscriber(measurements, nodeOf.apply(i),
                            nodeOf.apply(i).patternEventsPath(config.topic()), SseSubscriber.Events.ENVELOPE, 1)
                    : config.eventsPath() == null ? new SseSubscriber(measurements, nodeOf.apply(i), config.topic())
                    : new SseSubscriber(measurements, nodeOf.apply(i), eventsPath(), SseSubscriber.Events.OFFSET_ID, 1);
            // each publisher numbers its own messages: one check per publisher, as for the other peers
            case PUSHPIN -> new SseSubscriber(measurements, nodeOf.apply(i), eventsPath(),
                    SseSubscriber.Events.SEQUENCED, config.publishers());
            case REDIS -> new RespSubscriber(measurements, config.topic(), config.publishers());
            case NATS -> new NatsSubscriber(measurements, config.topic(), config.publishers());
        }, bootstrap, nodeOf, progress, "subscribers ready");
        if (config.target() == Target.SWITCHBOARD && config.transport() == Transport.WS) {
            subscribers.awaitSubscribedReplies(measurements);
        }
    }

    private void publish(ProgressReporter progress) throws InterruptedException {
        long start = System.nanoTime();
        measureStartNanos = start + config.warmup().toNanos();
        long stop = measureStartNanos + config.duration().toNanos();
        measurements.startMeasuringAt(measureStartNanos);
        progress.show(new Rates(start));
        publishers.run(measurements, start, stop, i -> Long.MAX_VALUE, config.drain());
    }

    /** Waits until every subscriber has passed the last offset of each source acknowledged to a publisher. */
    private void drain(ProgressReporter progress) throws InterruptedException {
        subscribers.awaitReached(publishers.lastOffsets(oneLog()), config.drain());
        progress.stopTicks();
    }

    private String eventsPath() {
        return config.eventsPath().replace("{topic}", config.topic());
    }

    /** Switchboard numbers all messages in one log; a peer's subscribers check each publisher's numbers. */
    private boolean oneLog() {
        return config.target() == Target.SWITCHBOARD;
    }

    private void closeAll() throws InterruptedException {
        measurements.closeAll();
        publishers.close();
        subscribers.close(CLOSE_TIMEOUT, err);
    }

    private FanoutReport report(ClientIo io) {
        if (publishers.acked() == 0) {
            measurements.error(ErrorKind.PUBLISH, "no publish was acknowledged");
        }
        List<FanoutReport.SubscriberErrors> failed = new ArrayList<>();
        OffsetCheck.Result order = subscribers.check(publishers.firstOffsets(oneLog()),
                publishers.lastOffsets(oneLog()), failed, MAX_REPORTED_SUBSCRIBERS);
        double seconds = config.duration().toNanos() / 1e9;
        // If subscribers lagged, deliveries went on after publishing stopped: count that time too.
        double deliverySeconds = Math.max(seconds, (measurements.lastDeliveryNanos() - measureStartNanos) / 1e9);
        long published = publishers.measuredAcked();
        long delivered = measurements.measuredDeliveries();
        String transport = config.target() == Target.SWITCHBOARD ? config.transport().name()
                : config.target() == Target.REDIS ? "redis-resp"
                : config.target() == Target.PUSHPIN ? "pushpin-sse" : "nats-core";
        return new FanoutReport(transport.toLowerCase(Locale.ROOT), io.name(), config.subscribers(),
                config.size(), config.rate(), config.warmup().toNanos() / 1e9, seconds, published,
                tenths(published / seconds), delivered, tenths(delivered / deliverySeconds),
                LatencyReport.of(measurements.latencyMicros()),
                FanoutReport.Errors.of(measurements.errors(ErrorKind.PUBLISH),
                        measurements.errors(ErrorKind.DISCONNECT), measurements.errors(ErrorKind.PROTOCOL),
                        order),
                failed, measurements.errorSamples());
    }

    private static double tenths(double value) {
        return Math.round(value * 10) / 10.0;
    }

    /** The publishing status line: phase, totals and per-second rates since the previous line. */
    private final class Rates implements Supplier<String> {
        private final long start;
        private long lastNanos;
        private long lastPublished;
        private long lastDelivered;

        Rates(long start) {
            this.start = start;
            this.lastNanos = start;
        }

        @Override
        public String get() {
            long now = System.nanoTime();
            long published = measurements.published.sum();
            long delivered = measurements.delivered.sum();
            double seconds = (now - lastNanos) / 1e9;
            String phase = ProgressReporter.phase(now, measureStartNanos, config.duration());
            String line = String.format(Locale.ROOT, "%6.1fs %s  published %,d (%,.0f/s)  delivered %,d (%,.0f/s)",
                    (now - start) / 1e9, phase, published, (published - lastPublished) / seconds,
                    delivered, (delivered - lastDelivered) / seconds);
            lastNanos = now;
            lastPublished = published;
            lastDelivered = delivered;
            return line;
        }
    }
}
