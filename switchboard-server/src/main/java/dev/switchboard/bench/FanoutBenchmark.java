package dev.switchboard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.bench.FanoutConfig.Target;
import dev.switchboard.bench.FanoutConfig.Transport;
import dev.switchboard.bench.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
    /** A server that never sends {@code subscribed} costs this much once. */
    private static final Duration SUBSCRIBED_REPLY_WAIT = Duration.ofSeconds(1);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_REPORTED_SUBSCRIBERS = 10;

    private final FanoutConfig config;
    private final PrintWriter err;
    private final Measurements measurements = new Measurements();
    private final List<Publisher> publishers = new ArrayList<>();
    private final List<Channel> publisherChannels = new ArrayList<>();
    private final List<Subscriber<?>> subscribers = new ArrayList<>();
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
                connectPublishers(bootstrap(io, publisherLoops), server);
                connectSubscribers(bootstrap(io, subscriberLoops), server, progress);
                publish(progress);
                drain(progress);
            } finally {
                closeAll();
                publisherLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                subscriberLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                publisherLoops.terminationFuture().await(CLOSE_TIMEOUT.toMillis());
                subscriberLoops.terminationFuture().await(CLOSE_TIMEOUT.toMillis());
            }
        }
        // The loops have stopped: what their threads wrote is visible here.
        return report(io);
    }

    /** Prints the report as text or JSON and returns the exit code: 1 if the run saw any error. */
    public static int print(FanoutReport report, boolean json, PrintWriter out) throws IOException {
        out.print(json ? new ObjectMapper().writeValueAsString(report) + System.lineSeparator() : report.toText());
        out.flush();
        return report.failed() ? 1 : 0;
    }

    private static Bootstrap bootstrap(ClientIo io, EventLoopGroup loops) {
        return new Bootstrap()
                .group(loops)
                .channel(io.channelType())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) SETUP_TIMEOUT.toMillis());
    }

    private void connectPublishers(Bootstrap bootstrap, ServerEndpoint server) throws IOException, InterruptedException {
        Payload payload = new Payload(config.size());
        double ratePerConnection = (double) config.rate() / config.publishers();
        for (int i = 0; i < config.publishers(); i++) {
            Publisher publisher = switch (config.target()) {
                case SWITCHBOARD -> new HttpPublisher(measurements, server, config.topic(), payload,
                        config.inflight(), ratePerConnection);
                case REDIS -> new RespPublisher(measurements, config.topic(), payload, i, config.inflight(),
                        ratePerConnection);
                case NATS -> new NatsPublisher(measurements, config.topic(), payload, i, config.inflight(),
                        ratePerConnection);
            };
            ChannelFuture connect = bootstrap.clone()
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            publisher.initPipeline(ch.pipeline());
                        }
                    })
                    .connect(server.address());
            if (!connect.await(SETUP_TIMEOUT.toMillis()) || !connect.isSuccess()) {
                Throwable cause = connect.cause();
                throw new IOException("cannot connect to " + server + ": "
                        + (cause == null ? "timed out" : cause.getMessage()), cause);
            }
            publishers.add(publisher);
            publisherChannels.add(connect.channel());
            try {
                publisher.ready().get(SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                throw new IOException("publisher not ready on " + server + ": " + cause, cause);
            }
        }
    }

    private void connectSubscribers(Bootstrap bootstrap, ServerEndpoint server, ProgressReporter progress)
            throws IOException, InterruptedException {
        int total = config.subscribers();
        Semaphore window = new Semaphore(HANDSHAKE_WINDOW);
        AtomicInteger ready = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        progress.show(() -> "connecting  " + ready.get() + "/" + total + " subscribers ready");
        for (int i = 0; i < total && failure.get() == null; i++) {
            window.acquire();
            Subscriber<?> subscriber = switch (config.target()) {
                case SWITCHBOARD -> config.transport() == Transport.WS
                        ? new WsSubscriber(measurements, server, config.topic())
                        : new SseSubscriber(measurements, server, config.topic());
                case REDIS -> new RespSubscriber(measurements, config.topic(), config.publishers());
                case NATS -> new NatsSubscriber(measurements, config.topic(), config.publishers());
            };
            subscribers.add(subscriber);
            subscriber.ready().orTimeout(SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ok, e) -> {
                if (e == null) {
                    ready.incrementAndGet();
                } else {
                    failure.compareAndSet(null, e);
                }
                window.release();
            });
            subscriber.connect(bootstrap, server);
        }
        window.acquire(HANDSHAKE_WINDOW);
        Throwable e = failure.get();
        if (e != null) {
            String reason = e instanceof TimeoutException
                    ? "no subscription within " + SETUP_TIMEOUT.toSeconds() + " s" : String.valueOf(e.getMessage());
            throw new IOException("subscriber failed: " + reason, e);
        }
        if (config.target() == Target.SWITCHBOARD && config.transport() == Transport.WS) {
            awaitSubscribedReplies();
        }
    }

    /**
     * The WebSocket handshake already means subscribed; a server that also replies {@code subscribed} may
     * register the subscription only then, so once one reply is seen, all are awaited.
     */
    private void awaitSubscribedReplies() throws IOException, InterruptedException {
        long start = System.nanoTime();
        while (measurements.subscribeAcks.get() < config.subscribers()) {
            long waited = System.nanoTime() - start;
            if (measurements.subscribeAcks.get() == 0 && waited > SUBSCRIBED_REPLY_WAIT.toNanos()) {
                return;
            }
            if (waited > SETUP_TIMEOUT.toNanos()) {
                throw new IOException("only " + measurements.subscribeAcks.get() + " of " + config.subscribers()
                        + " subscriptions were confirmed");
            }
            Thread.sleep(10);
        }
    }

    private void publish(ProgressReporter progress) throws InterruptedException {
        long start = System.nanoTime();
        measureStartNanos = start + config.warmup().toNanos();
        long stop = measureStartNanos + config.duration().toNanos();
        measurements.startMeasuringAt(measureStartNanos);
        progress.show(new Rates(start));
        publishers.forEach(p -> p.start(start, stop));
        CompletableFuture<Void> done = CompletableFuture.allOf(
                publishers.stream().map(Publisher::done).toArray(CompletableFuture[]::new));
        long waitNanos = stop - System.nanoTime() + config.drain().toNanos();
        try {
            done.get(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            measurements.error(ErrorKind.PUBLISH, "publish requests still unanswered " + config.drain().toSeconds()
                    + " s after publishing stopped");
        } catch (ExecutionException e) {
            throw new IllegalStateException("publisher failed", e.getCause());
        }
    }

    /** Waits until every subscriber has passed the last offset of each source acknowledged to a publisher. */
    private void drain(ProgressReporter progress) throws InterruptedException {
        long[] last = lastOffsets();
        long deadline = System.nanoTime() + config.drain().toNanos();
        int caughtUp = 0;
        while (caughtUp < subscribers.size() && System.nanoTime() < deadline) {
            while (caughtUp < subscribers.size() && reached(subscribers.get(caughtUp), last)) {
                caughtUp++;
            }
            Thread.sleep(1);
        }
        progress.stopTicks();
    }

    private static boolean reached(Subscriber<?> subscriber, long[] last) {
        for (int source = 0; source < last.length; source++) {
            if (!subscriber.offsets(source).reached(last[source])) {
                return false;
            }
        }
        return true;
    }

    /** Sources of offsets: Switchboard's log, or each publisher of a peer. */
    private int sources() {
        return config.target() == Target.SWITCHBOARD ? 1 : publishers.size();
    }

    private long[] firstOffsets() {
        if (config.target() == Target.SWITCHBOARD) {
            return new long[] {publishers.stream().mapToLong(Publisher::firstOffset).min().orElse(Long.MAX_VALUE)};
        }
        return publishers.stream().mapToLong(Publisher::firstOffset).toArray();
    }

    private long[] lastOffsets() {
        if (config.target() == Target.SWITCHBOARD) {
            return new long[] {publishers.stream().mapToLong(Publisher::lastOffset).max().orElse(Long.MIN_VALUE)};
        }
        return publishers.stream().mapToLong(Publisher::lastOffset).toArray();
    }

    private void closeAll() throws InterruptedException {
        measurements.closeAll();
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        subscribers.forEach(s -> closed.add(s.close()));
        publisherChannels.forEach(Channel::close);
        try {
            CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new))
                    .get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            err.println("some subscriber connections did not close within " + CLOSE_TIMEOUT.toSeconds() + " s");
        }
    }

    private FanoutReport report(ClientIo io) {
        long[] firstOffsets = firstOffsets();
        long[] lastOffsets = lastOffsets();
        if (publishers.stream().mapToLong(Publisher::acked).sum() == 0) {
            measurements.error(ErrorKind.PUBLISH, "no publish was acknowledged");
        }
        long missing = 0;
        long duplicates = 0;
        long outOfOrder = 0;
        List<FanoutReport.SubscriberErrors> failed = new ArrayList<>();
        for (int i = 0; i < subscribers.size(); i++) {
            OffsetCheck.Result r = new OffsetCheck.Result(0, 0, 0);
            for (int source = 0; source < sources(); source++) {
                OffsetCheck.Result s = subscribers.get(i).offsets(source).result(firstOffsets[source],
                        lastOffsets[source]);
                r = new OffsetCheck.Result(r.missing() + s.missing(), r.duplicates() + s.duplicates(),
                        r.outOfOrder() + s.outOfOrder());
            }
            missing += r.missing();
            duplicates += r.duplicates();
            outOfOrder += r.outOfOrder();
            if (!r.ok() && failed.size() < MAX_REPORTED_SUBSCRIBERS) {
                failed.add(new FanoutReport.SubscriberErrors(i, r.missing(), r.duplicates(), r.outOfOrder()));
            }
        }
        double seconds = config.duration().toNanos() / 1e9;
        // If subscribers lagged, deliveries went on after publishing stopped: count that time too.
        double deliverySeconds = Math.max(seconds, (measurements.lastDeliveryNanos() - measureStartNanos) / 1e9);
        long published = publishers.stream().mapToLong(Publisher::measuredAcked).sum();
        long delivered = measurements.measuredDeliveries();
        String transport = config.target() == Target.SWITCHBOARD ? config.transport().name()
                : config.target() == Target.REDIS ? "redis-resp" : "nats-core";
        return new FanoutReport(transport.toLowerCase(Locale.ROOT), io.name(), config.subscribers(),
                config.size(), config.rate(), config.warmup().toNanos() / 1e9, seconds, published,
                tenths(published / seconds), delivered, tenths(delivered / deliverySeconds),
                LatencyReport.of(measurements.latencyMicros()),
                FanoutReport.Errors.of(measurements.errors(ErrorKind.PUBLISH),
                        measurements.errors(ErrorKind.DISCONNECT), measurements.errors(ErrorKind.PROTOCOL),
                        new OffsetCheck.Result(missing, duplicates, outOfOrder)),
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
            String phase = now < measureStartNanos ? "warmup "
                    : now < measureStartNanos + config.duration().toNanos() ? "measure" : "drain  ";
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
