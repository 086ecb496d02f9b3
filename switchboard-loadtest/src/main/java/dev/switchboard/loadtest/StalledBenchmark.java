package dev.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.LongSummaryStatistics;

/**
 * {@code bench stalled}: what readers that stop reading cost the server (Switchboard only). Opens N WebSocket
 * subscribers on one fresh topic; in a stalled run each stops reading its socket once the server has confirmed the
 * subscription, so what the server sends it fills the socket buffers and the server has to hold back (a control
 * run, not stalled, reads everything). Then publishes a number of bytes in fixed-size messages over HTTP, as
 * {@code bench fanout} does, and reads the server's memory ({@code /proc/PID/status}): before subscribing, once
 * subscribed, every {@value #SAMPLE_MILLIS} ms while publishing (the peak), once the last publish is acknowledged,
 * and after a settle time during which the stalled readers stay stalled. The server's slow-consumer guard may close
 * stalled readers meanwhile: expected, and counted from the server's own count of the topic's subscribers. A
 * control subscriber must receive every message once, in order; a publish not acknowledged is an error.
 */
public final class StalledBenchmark {
    private static final int HANDSHAKE_WINDOW = 200;
    private static final long SAMPLE_MILLIS = 250;
    /** Publishing must end within this; what is not sent by then is an error. */
    private static final Duration PUBLISH_LIMIT = Duration.ofMinutes(10);
    /** After publishing stops, how long the last acknowledgements may take. */
    private static final Duration ACK_DRAIN = Duration.ofSeconds(30);
    /** Control run, after the settle: how long the subscribers may still take to receive everything. */
    private static final Duration DELIVERY_DRAIN = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Settings of one run.
     *
     * @param stalled   whether the subscribers stop reading once subscribed; false is the control run
     * @param bytes     payload bytes to publish, in messages of {@code size} bytes (rounded down to whole messages)
     * @param settle    how long to wait after the last acknowledgement before the last memory reading
     * @param serverPid the server's process id, to read its memory from {@code /proc}; -1 when not given
     * @param threads   event-loop threads the subscribers share
     */
    public record Config(URI server, int subscribers, boolean stalled, long bytes, int size, int publishers,
                         int inflight, Duration settle, long serverPid, ClientIo.Mode io, int threads, String topic) {
        public Config {
            FanoutConfig.checkServer(Target.SWITCHBOARD, server);
            FanoutConfig.positive("subscribers", subscribers);
            FanoutConfig.positive("publishers", publishers);
            FanoutConfig.positive("inflight", inflight);
            FanoutConfig.positive("threads", threads);
            FanoutConfig.checkSize(Target.SWITCHBOARD, size);
            if (bytes < size) {
                throw new IllegalArgumentException("--bytes must be at least one message of --size " + size + " bytes");
            }
            if (settle.isNegative()) {
                throw new IllegalArgumentException("--settle must not be negative");
            }
        }

        /** Messages to publish: whole messages of {@code size} bytes within {@code bytes}. */
        public long messages() {
            return bytes / size;
        }
    }

    /**
     * The outcome. Memory figures are bytes, -1 without a server pid: {@code rssPeakBytes} is the largest reading
     * while publishing (sampled, and the reading after the last acknowledgement); {@code hwmBeforeBytes} and
     * {@code hwmAfterBytes} are the kernel's own peak ({@code VmHWM}) before subscribing and after the settle.
     * {@code messages} and {@code bytes} are what was to be published, {@code published} what was acknowledged;
     * {@code delivered} counts messages received over all subscribers, {@code deliveredMin} and {@code deliveredMax}
     * per subscriber. {@code subscribersClosed} is how many subscriptions the server no longer held after the settle
     * (-1 if it could not be asked).
     */
    public record Report(String workload, String target, int subscribers, boolean stalled, int size, long messages,
                         long bytes, long published, double publishSeconds, double publishedPerSecond,
                         double settleSeconds, long rssBeforeBytes, long rssSubscribedBytes, long rssPeakBytes,
                         long rssAfterPublishBytes, long rssAfterSettleBytes, long hwmBeforeBytes, long hwmAfterBytes,
                         long delivered, long deliveredMin, long deliveredMax, int subscribersClosed,
                         BenchReport.Errors errors, List<String> errorSamples) implements BenchReport.Counted {
        @Override
        public String toText() {
            StringBuilder t = new StringBuilder(String.format(Locale.ROOT, """
                    stalled     %,d WebSocket subscribers, %s
                    published   %,d of %,d messages of %,d B (%s) in %.1f s: %,.0f msgs/s, %s/s
                    """, subscribers, stalled ? "stalled once subscribed" : "reading (control run, none stalled)",
                    published, messages, size, ByteSizeConverter.mib(bytes), publishSeconds, publishedPerSecond,
                    ByteSizeConverter.mib((long) (publishedPerSecond * size))));
            if (rssBeforeBytes < 0) {
                t.append("server rss  not measured (no --server-pid)\n");
            } else {
                t.append(String.format(Locale.ROOT, """
                        server rss  before %s, subscribed %s, peak %s, after publishing %s, after %.1f s settle %s
                        growth      peak %s, after settle %s (VmHWM %s before, %s after)
                        """, ByteSizeConverter.mib(rssBeforeBytes), ByteSizeConverter.mib(rssSubscribedBytes),
                        ByteSizeConverter.mib(rssPeakBytes), ByteSizeConverter.mib(rssAfterPublishBytes),
                        settleSeconds, ByteSizeConverter.mib(rssAfterSettleBytes),
                        ByteSizeConverter.mib(rssPeakBytes - rssBeforeBytes),
                        ByteSizeConverter.mib(rssAfterSettleBytes - rssBeforeBytes),
                        ByteSizeConverter.mib(hwmBeforeBytes), ByteSizeConverter.mib(hwmAfterBytes)));
            }
            t.append(String.format(Locale.ROOT, """
                    delivered   %,d messages over all subscribers, %,d to %,d each
                    closed      %,d of %,d subscribers closed by the server
                    """, delivered, deliveredMin, deliveredMax, subscribersClosed, subscribers));
            return text(t.toString());
        }
    }

    private final Config config;
    private final PrintWriter err;
    private final Measurements measurements = new Measurements();
    private final PublisherGroup publishers = new PublisherGroup();
    private final SubscriberGroup subscribers = new SubscriberGroup();
    private final ServerMemory memory;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(FanoutBenchmark.SETUP_TIMEOUT).build();
    private ServerMemory.Reading before;
    private ServerMemory.Reading afterSettle;
    private long rssSubscribed;
    private long rssPeak;
    private long rssAfterPublish;
    private double publishSeconds;
    private int closedByServer = -1;

    public StalledBenchmark(Config config, PrintWriter err) {
        this.config = config;
        this.err = err;
        this.memory = ServerMemory.of(config.serverPid(), err);
    }

    /**
     * Runs the setup, the publishing and the settle, and returns the report.
     *
     * @throws IOException if the server cannot be reached, refuses a subscriber, or its memory cannot be read
     */
    public Report run() throws IOException, InterruptedException {
        try (http; ClientRun run = new ClientRun(config.server(), config.io(), "bench-stalled", config.threads(),
                measurements, publishers, subscribers, err)) {
            before = memory.read();
            subscribers.open(config.subscribers(), HANDSHAKE_WINDOW,
                    i -> new WsSubscriber(measurements, run.server, config.topic(), config.stalled()),
                    run.subscriberBootstrap(), run.server, run.progress, "subscribed");
            subscribers.awaitSubscribedReplies(measurements);
            rssSubscribed = memory.rss();
            connectPublishers(run.publisherBootstrap(), run.server);
            publish(run.progress);
            settle(run.progress);
            afterSettle = memory.read();
            closedByServer = closedByServer(run.server);
            if (!config.stalled()) {
                subscribers.awaitReached(publishers.lastOffsets(true), DELIVERY_DRAIN);
            }
        }
        return report();
    }

    private void connectPublishers(Bootstrap bootstrap, ServerEndpoint server)
            throws IOException, InterruptedException {
        Payload payload = new Payload(config.size());
        for (int i = 0; i < config.publishers(); i++) {
            publishers.open(bootstrap, server, new HttpPublisher(measurements, server,
                    HttpPublisher.toTopic(config.topic(), payload), config.inflight(), 0));
        }
    }

    /** Publishes every message, split evenly over the publishers, sampling the server's memory meanwhile. */
    private void publish(ProgressReporter progress) throws IOException, InterruptedException {
        long messages = config.messages();
        int n = config.publishers();
        ServerMemory.Sampler sampler = memory.sample(SAMPLE_MILLIS);
        long start = System.nanoTime();
        measurements.startMeasuringAt(start);
        progress.show(() -> String.format(Locale.ROOT, "%6.1fs published %,d of %,d, delivered %,d, server rss %s",
                (System.nanoTime() - start) / 1e9, measurements.published.sum(), messages,
                measurements.delivered.sum(), ByteSizeConverter.mib(sampler.latest())));
        try {
            publishers.run(measurements, start, start + PUBLISH_LIMIT.toNanos(),
                    i -> messages / n + (i < messages % n ? 1 : 0), ACK_DRAIN);
            publishSeconds = (System.nanoTime() - start) / 1e9;
        } finally {
            progress.stopTicks();
            rssPeak = sampler.stop();
        }
        rssAfterPublish = memory.rss();
        rssPeak = Math.max(rssPeak, rssAfterPublish);
    }

    /** Waits out the settle time; stalled subscribers stay stalled, control ones go on receiving. */
    private void settle(ProgressReporter progress) throws InterruptedException {
        long start = System.nanoTime();
        progress.show(() -> String.format(Locale.ROOT, "%6.1fs settling, delivered %,d",
                (System.nanoTime() - start) / 1e9, measurements.delivered.sum()));
        Thread.sleep(config.settle().toMillis());
        progress.stopTicks();
    }

    /**
     * How many of the subscribers the server has closed: the run's subscribers less the WebSocket subscribers of
     * the topic it still counts ({@code GET /v1/topics/T}); -1, and an error, if it cannot be asked. A stalled
     * reader cannot see its close (the close frame and the end of the stream queue behind the data it does not
     * read), so the server's count is the one to trust.
     */
    private int closedByServer(ServerEndpoint server) throws InterruptedException {
        URI uri = server.topicUri(config.topic());
        try {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri)
                    .timeout(FanoutBenchmark.SETUP_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() != 200) {
                throw new IOException("answered " + answer.statusCode());
            }
            // The server leaves out transports without subscribers.
            JsonNode live = JSON.readTree(answer.body()).path("subscribers");
            if (!live.isObject() || live.has("ws") && !live.get("ws").canConvertToInt()) {
                throw new IOException("no subscriber counts in " + answer.body());
            }
            return config.subscribers() - live.path("ws").asInt(0);
        } catch (IOException e) {
            measurements.error(ErrorKind.PROTOCOL, "GET " + uri + ": " + e.getMessage());
            return -1;
        }
    }

    private Report report() {
        long messages = config.messages();
        long published = publishers.acked();
        if (published != messages) {
            measurements.error(ErrorKind.PUBLISH, published + " of " + messages + " publishes acknowledged");
        }
        OffsetCheck.Result order = subscribers.check(publishers.firstOffsets(true), publishers.lastOffsets(true),
                new ArrayList<>(), 0);
        // A stalled subscriber misses what did not fit in the buffers: only duplicates and disorder count there.
        long missing = config.stalled() ? 0 : order.missing();
        long errors = measurements.errorsTotal() + missing + order.duplicates() + order.outOfOrder();
        List<String> samples = new ArrayList<>(measurements.errorSamples());
        if (missing + order.duplicates() + order.outOfOrder() > 0) {
            samples.add(String.format(Locale.ROOT, "over all subscribers: %d missing, %d duplicates, %d out of order",
                    missing, order.duplicates(), order.outOfOrder()));
        }
        LongSummaryStatistics received = subscribers.subscribers().stream().mapToLong(Subscriber::received)
                .summaryStatistics();
        return new Report("stalled", BenchResults.SWITCHBOARD, config.subscribers(), config.stalled(), config.size(),
                messages, messages * config.size(), published, Math.round(publishSeconds * 1000) / 1000.0,
                publishSeconds > 0 ? Math.round(published / publishSeconds * 10) / 10.0 : 0,
                config.settle().toMillis() / 1000.0, before.rssBytes(), rssSubscribed, rssPeak, rssAfterPublish,
                afterSettle.rssBytes(), before.hwmBytes(), afterSettle.hwmBytes(), measurements.delivered.sum(),
                received.getCount() == 0 ? 0 : received.getMin(), received.getCount() == 0 ? 0 : received.getMax(),
                closedByServer, new BenchReport.Errors(errors), samples);
    }
}
