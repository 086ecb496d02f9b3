package dev.switchboard.loadtest;

import dev.switchboard.client.From;
import dev.switchboard.client.SubscribeOptions;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.Transport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench client}: what the Java client library itself sustains against a server. Publish round trips per second
 * one at a time (blocking) and with {@code inflight} asynchronous publishes outstanding; then, per transport, the
 * messages per second one subscription receives when it reads the published topic from its start.
 */
final class ClientBenchmark {
    record Config(String server, int publishes, int messages, int size, int inflight) {
        Config {
            if (publishes < 1 || messages < 1 || size < 1 || inflight < 1) {
                throw new IllegalArgumentException("--publishes, --messages, --size and --inflight must be at least 1");
            }
        }
    }

    /** The figures; rates are per second. */
    record Report(String server, int size, int publishes, double blockingPublishesPerSecond, int inflight,
                  double asyncPublishesPerSecond, int messages, Map<String, Double> subscriptionMessagesPerSecond,
                  BenchReport.Errors errors, List<String> errorSamples) implements BenchReport.Counted {
        @Override
        public String toText() {
            StringBuilder t = new StringBuilder();
            t.append(String.format(Locale.ROOT, "publish     blocking %,.0f/s (%d round trips of %d bytes)%n",
                    blockingPublishesPerSecond, publishes, size));
            t.append(String.format(Locale.ROOT, "publish     async    %,.0f/s (%d in flight, %d messages)%n",
                    asyncPublishesPerSecond, inflight, messages));
            subscriptionMessagesPerSecond.forEach((transport, rate) -> t.append(String.format(Locale.ROOT,
                    "subscribe   %-10s%,.0f msgs/s (one subscription, %d messages)%n", transport, rate, messages)));
            return text(t.toString());
        }
    }

    private final Config config;
    private final PrintWriter err;
    private final AtomicLong errors = new AtomicLong();
    private final List<String> samples = new ArrayList<>();

    ClientBenchmark(Config config, PrintWriter err) {
        this.config = config;
        this.err = err;
    }

    Report run() throws InterruptedException {
        String topic = FanoutConfig.freshTopic();
        byte[] payload = new byte[config.size()];
        Arrays.fill(payload, (byte) 'x');
        try (Switchboard client = Switchboard.connect(config.server())) {
            long start = System.nanoTime();
            for (int i = 0; i < config.publishes(); i++) {
                client.publish(topic + ".blocking", payload, "text/plain", null);
            }
            double blocking = perSecond(config.publishes(), start);
            say("blocking publishes done");

            start = System.nanoTime();
            Semaphore window = new Semaphore(config.inflight());
            CountDownLatch answered = new CountDownLatch(config.messages());
            for (int i = 0; i < config.messages(); i++) {
                window.acquire();
                client.publishAsync(topic, payload, "text/plain", null).whenComplete((p, failure) -> {
                    if (failure != null) {
                        error(failure.toString());
                    }
                    window.release();
                    answered.countDown();
                });
            }
            answered.await();
            double async = perSecond(config.messages(), start);
            say("async publishes done");

            Map<String, Double> subscriptions = new LinkedHashMap<>();
            for (Transport transport : Transport.values()) {
                subscriptions.put(transport.name().toLowerCase(Locale.ROOT), subscribe(client, topic, transport));
                say(transport + " subscription done");
            }
            return new Report(config.server(), config.size(), config.publishes(), blocking, config.inflight(), async,
                    config.messages(), subscriptions, new BenchReport.Errors(errors.get()), List.copyOf(samples));
        }
    }

    /** Reads the whole topic with one subscription; the clock stops at its last message. */
    private double subscribe(Switchboard client, String topic, Transport transport) throws InterruptedException {
        CountDownLatch all = new CountDownLatch(1);
        long start = System.nanoTime();
        long[] end = {0};
        try (Subscription sub = client.subscribe(topic, From.earliest(),
                SubscribeOptions.builder().transport(transport).bufferSize(1024).build(), m -> {
                    if (m.offset() == config.messages()) {
                        end[0] = System.nanoTime();
                        all.countDown();
                    }
                })) {
            sub.closed().whenComplete((v, failure) -> {
                if (failure != null) {
                    error(transport + ": " + failure);
                    all.countDown();
                }
            });
            if (!all.await(10, TimeUnit.MINUTES) || end[0] == 0) {
                error(transport + ": did not receive every message");
                return 0;
            }
        }
        return config.messages() / ((end[0] - start) / 1e9);
    }

    private static double perSecond(long count, long startNanos) {
        return count / ((System.nanoTime() - startNanos) / 1e9);
    }

    private synchronized void error(String what) {
        errors.incrementAndGet();
        if (samples.size() < 5) {
            samples.add(what);
        }
    }

    private void say(String line) {
        err.println(line);
        err.flush();
    }

}
