package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import dev.switchboard.wire.TopicNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
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
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code bench longpoll}: how fast held long polls wake. Holds one long poll on each of N fresh topics (one
 * connection each), waits until the server holds them all, then publishes one message to every topic from a few
 * pipelining keep-alive connections. Wake latency per topic runs from just before its publish is written to the poll's
 * whole answer arriving; each poll must get exactly its own topic's message.
 *
 * <p>An unmeasured round of the same kind on other topics comes first, in the same JVM: a fresh JVM otherwise
 * compiles its answer-reading path (HTTP codec, aggregator, JSON reads, recording) inside the measured window, on
 * the event loops' cores, and those compilations were part of the tail it reported.
 *
 * <p>The server has no gauge of held polls, but a long poll on a topic that does not exist yet makes the topic known
 * ({@code switchboard_feeds} in {@code /metrics} counts topics with readers, awaited ones included): the polls are held once that
 * gauge has grown by N over its value before the round. Nobody else should create or delete topics meanwhile.
 */
public final class LongPollBenchmark {
    private static final int CONNECT_WINDOW = 500;
    /** Publisher connections, each with a few requests pipelined: enough to keep the server busy, not queued. */
    private static final int PUBLISHERS = 8;
    private static final int PUBLISH_WINDOW = 4;
    private static final int PAYLOAD_SIZE = 64;
    private static final Duration HELD_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration METRICS_POLL = Duration.ofMillis(50);
    private static final Duration DRAIN = Duration.ofSeconds(10);
    /** Appended to the prefix for the warm-up round's topics. */
    private static final String WARMUP_SUFFIX = "w";

    /**
     * Settings of one run.
     *
     * @param warmupPolls polls of the unmeasured round before the measured one; 0 = none
     * @param pollWait    how long each poll may be held ({@code wait=}); publishing must end within it
     * @param rate        publishes per second over all publishers; 0 = as fast as acknowledgements allow
     * @param threads     event-loop threads the polls share
     * @param prefix      topic names are this plus the poll's index (the warm-up's, this plus {@code w} plus it)
     */
    public record Config(URI server, int polls, int warmupPolls, Duration pollWait, int rate, ClientIo.Mode io,
                         int threads, String prefix) {
        public Config {
            if (rate < 0) {
                throw new IllegalArgumentException("--rate must not be negative");
            }
            if (warmupPolls < 0) {
                throw new IllegalArgumentException("--warmup-polls must not be negative");
            }
            if (rate > 0 && Math.max(polls, warmupPolls) * 1000.0 / rate >= pollWait.toMillis()) {
                throw new IllegalArgumentException("at --rate " + rate + " publishing "
                        + Math.max(polls, warmupPolls) + " messages takes longer than --wait " + pollWait.toMillis()
                        + "ms");
            }
            FanoutConfig.checkServer(FanoutConfig.Target.SWITCHBOARD, server);
            FanoutConfig.positive("polls", polls);
            FanoutConfig.positive("threads", threads);
            if (pollWait.toMillis() < 1) {
                throw new IllegalArgumentException("--wait must be at least 1ms");
            }
            if (!TopicNames.isValid(prefix + WARMUP_SUFFIX + Math.max(polls, warmupPolls))) {
                throw new IllegalArgumentException("topic prefix gives invalid topic names: " + prefix);
            }
        }

        /** A prefix no earlier run has used, so every topic is new. */
        public static String freshPrefix() {
            return "bench-poll." + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36) + ".t";
        }
    }

    /** The outcome; {@code publishSeconds} runs from the first publish written to the last acknowledged. */
    public record Report(String workload, int polls, long woken, LatencyReport latencyMs, double publishSeconds,
                         BenchReport.Errors errors, List<String> errorSamples) implements BenchReport.Counted {
        @Override
        public String toText() {
            return text(String.format(Locale.ROOT, "longpoll    %,d polls, %,d woken, published in %.3f s%n", polls,
                    woken, publishSeconds) + LatencyReport.line(latencyMs));
        }
    }

    private final Config config;
    private final PrintWriter err;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(FanoutBenchmark.SETUP_TIMEOUT).build();

    public LongPollBenchmark(Config config, PrintWriter err) {
        this.config = config;
        this.err = err;
    }

    /**
     * Runs the warm-up round, then the measured one, each until every poll has answered (or the wait passed), and
     * returns the measured round's report with the errors of both.
     *
     * @throws IOException if the server cannot be reached or does not hold every poll in time
     */
    public Report run() throws IOException, InterruptedException {
        ServerEndpoint server = ServerEndpoint.of(config.server());
        ClientIo io = ClientIo.choose(config.io());
        EventLoopGroup publisherLoops = io.newGroup("bench-publisher", 1);
        EventLoopGroup loops = io.newGroup("bench-longpoll", config.threads());
        Round warmup = config.warmupPolls() > 0
                ? new Round(config.prefix() + WARMUP_SUFFIX, config.warmupPolls(), "warm-up ") : null;
        Round measured = new Round(config.prefix(), config.polls(), "");
        try (http; ProgressReporter progress = new ProgressReporter(err)) {
            if (warmup != null) {
                double before = topicsKnown(server);
                warmup.run(server, io, publisherLoops, loops, progress);
                awaitForgotten(server, before, progress);
            }
            measured.run(server, io, publisherLoops, loops, progress);
        } finally {
            ClientIo.stop(FanoutBenchmark.CLOSE_TIMEOUT, publisherLoops, loops);
        }
        return measured.report(warmup);
    }

    /**
     * Waits until the warm-up's topics have left {@code switchboard_feeds} (a topic leaves once its poll is answered),
     * so that the next round counts only its own polls as held.
     */
    private void awaitForgotten(ServerEndpoint server, double before, ProgressReporter progress)
            throws IOException, InterruptedException {
        double[] known = {0};
        progress.show(() -> String.format(Locale.ROOT, "warm-up topics still read: %,.0f", known[0]));
        long deadline = System.nanoTime() + HELD_TIMEOUT.toNanos();
        while ((known[0] = topicsKnown(server) - before) > 0) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the server still counts " + (long) known[0] + " topics with readers "
                        + HELD_TIMEOUT.toSeconds() + " s after the warm-up (by switchboard_feeds in /metrics)");
            }
            Thread.sleep(METRICS_POLL.toMillis());
        }
        progress.stopTicks();
    }

    /**
     * The tool's own 10,000 connections were all just allocated: left young, the first collection inside the measured
     * phase copies them while answers arrive, and that pause is the tool's, not the server's (the tool's
     * {@code -Xlog:gc} showed one or two such pauses per run, each keeping 2-8 MB). One full collection now moves them
     * out of the young generation, as a long-running client would have them; it costs the server nothing.
     */
    private static void settleOwnHeap() {
        System.gc();
    }

    /** The {@code switchboard_feeds} gauge: topics with readers (subscribers or held polls) on the server. */
    private double topicsKnown(ServerEndpoint server) throws IOException, InterruptedException {
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(server.metricsUri())
                .timeout(FanoutBenchmark.SETUP_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (metrics.statusCode() != 200) {
            throw new IOException("GET " + server.metricsUri() + " answered " + metrics.statusCode());
        }
        return metrics.body().lines()
                .filter(line -> line.startsWith("switchboard_feeds ") || line.startsWith("switchboard_feeds{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(() -> new IOException(server.metricsUri() + " has no switchboard_feeds gauge"));
    }

    /** Polls on {@code count} fresh topics {@code prefix + i}, held, then one publish to each; own counters. */
    private final class Round {
        private final String prefix;
        private final int count;
        private final String label;
        private final Measurements measurements = new Measurements();
        private final PublisherGroup publishers = new PublisherGroup();
        private final SubscriberGroup polls = new SubscriberGroup();
        private double publishSeconds;

        Round(String prefix, int count, String label) {
            this.prefix = prefix;
            this.count = count;
            this.label = label;
        }

        void run(ServerEndpoint server, ClientIo io, EventLoopGroup publisherLoops, EventLoopGroup loops,
                 ProgressReporter progress) throws IOException, InterruptedException {
            try {
                double before = topicsKnown(server);
                polls.open(count, CONNECT_WINDOW, i -> new LongPollSubscriber(measurements, server, topic(i), i,
                        config.pollWait()), io.bootstrap(loops, FanoutBenchmark.SETUP_TIMEOUT), server, progress,
                        label + "polls sent");
                awaitHeld(server, before, progress);
                settleOwnHeap();
                int publisherCount = Math.min(PUBLISHERS, count);
                for (int i = 0; i < publisherCount; i++) {
                    publishers.open(io.bootstrap(publisherLoops, FanoutBenchmark.SETUP_TIMEOUT), server,
                            new HttpPublisher(measurements, server, new EachTopic(i), PUBLISH_WINDOW,
                                    (double) config.rate() / publisherCount));
                }
                progress.show(() -> String.format(Locale.ROOT, "%spublished %,d  woken %,d of %,d", label,
                        measurements.published.sum(), measurements.delivered.sum(), count));
                long start = System.nanoTime();
                measurements.startMeasuringAt(start);
                publishers.run(measurements, start, start + config.pollWait().toNanos(), this::messagesOf, DRAIN);
                publishSeconds = (System.nanoTime() - start) / 1e9;
                polls.awaitReached(new long[] {1}, config.pollWait());
                progress.stopTicks();
            } finally {
                measurements.closeAll();
                publishers.close();
                polls.close(FanoutBenchmark.CLOSE_TIMEOUT, err);
            }
        }

        private String topic(int index) {
            return prefix + index;
        }

        /** Publisher {@code p} takes every {@link #PUBLISHERS}th topic from {@code p} on. */
        private long messagesOf(int publisher) {
            return (count - publisher + PUBLISHERS - 1) / PUBLISHERS;
        }

        private void awaitHeld(ServerEndpoint server, double before, ProgressReporter progress)
                throws IOException, InterruptedException {
            double[] held = {0};
            progress.show(() -> String.format(Locale.ROOT, "%sheld %,.0f of %,d polls", label, held[0], count));
            long deadline = System.nanoTime() + HELD_TIMEOUT.toNanos();
            while ((held[0] = topicsKnown(server) - before) < count) {
                if (measurements.errorsTotal() > 0) {
                    throw new IOException("a long poll answered before any publish: "
                            + measurements.errorSamples().getFirst());
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("the server holds only " + (long) held[0] + " of " + count + " "
                            + label + "long polls after " + HELD_TIMEOUT.toSeconds()
                            + " s (by switchboard_feeds in /metrics)");
                }
                Thread.sleep(METRICS_POLL.toMillis());
            }
            progress.stopTicks();
        }

        /** Errors of this round, checks included, each sample marked with the round. Call once its loops idle. */
        private long errors(List<String> samples) {
            if (publishers.acked() != count) {
                measurements.error(ErrorKind.PUBLISH, publishers.acked() + " of " + count + " publishes acknowledged");
            }
            OffsetCheck.Result order = polls.check(new long[] {1}, new long[] {1}, new ArrayList<>(), 0);
            measurements.errorSamples().forEach(sample -> samples.add(label + sample));
            if (order.missing() > 0) {
                samples.add(label + order.missing() + " polls did not wake with their message");
            }
            return measurements.errorsTotal() + order.missing() + order.duplicates() + order.outOfOrder();
        }

        /** This round's figures, with its errors and those of the {@code warmup} round (if any). */
        Report report(Round warmup) {
            List<String> samples = new ArrayList<>();
            long errors = (warmup == null ? 0 : warmup.errors(samples)) + errors(samples);
            return new Report("longpoll", count, measurements.delivered.sum(),
                    LatencyReport.of(measurements.latencyMicros()), Math.round(publishSeconds * 1000) / 1000.0,
                    new BenchReport.Errors(errors), samples);
        }

        /** Publisher {@code first}'s messages: one to each of its topics, naming the topic's index in the payload. */
        private final class EachTopic implements HttpPublisher.Messages {
            private final int first;
            private final Payload payload = new Payload(PAYLOAD_SIZE);

            EachTopic(int first) {
                this.first = first;
            }

            private int index(long sequence) {
                return (int) (first + (sequence - 1) * PUBLISHERS);
            }

            @Override
            public String topic(long sequence) {
                return Round.this.topic(index(sequence));
            }

            @Override
            public ByteBuf body(ByteBufAllocator alloc, long sentAtNanos, long sequence) {
                ByteBuf body = alloc.buffer(PAYLOAD_SIZE);
                payload.encodeSequenced(body, sentAtNanos, index(sequence), 1);
                return body;
            }

            @Override
            public boolean oneTopic() {
                return false;
            }
        }
    }
}
