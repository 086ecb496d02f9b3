package dev.switchboard.loadtest;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * NATS request/reply, as NATS applications do it with the official Java client: one responder connection answers
 * every request on a subject with its payload; {@code clients} requester connections each send a request and wait
 * for its reply, in a loop. The same run against nats-server and against Switchboard's NATS port (docs/nats.md)
 * compares the two; with {@code serverPid} the server's CPU time per request is measured from /proc/PID/stat.
 */
final class RequestBenchmark {
    record Config(String server, int clients, int size, Duration warmup, Duration duration, long serverPid) {}

    /** The run's figures; {@code serverCpuMicrosPerRequest} is -1 without a server pid. */
    record Report(String server, int clients, int size, long requests, double requestsPerSecond, double p50Micros,
                  double p99Micros, long errors, double serverCpuSeconds, double serverCpuMicrosPerRequest)
            implements BenchReport {
        @Override
        public boolean failed() {
            return errors > 0;
        }

        @Override
        public String toText() {
            return String.format(Locale.ROOT, "request/reply on %s: %d clients, %d B: %,d requests (%,.0f/s), "
                            + "p50 %.0f µs, p99 %.0f µs, %d errors, server CPU %.3f s (%.1f µs per request)%n",
                    server, clients, size, requests, requestsPerSecond, p50Micros, p99Micros, errors,
                    serverCpuSeconds, serverCpuMicrosPerRequest);
        }
    }

    private final Config config;
    private final PrintWriter err;

    RequestBenchmark(Config config, PrintWriter err) {
        this.config = config;
        this.err = err;
    }

    Report run() throws Exception {
        String subject = "bench.rr." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        Options options = new Options.Builder().server(config.server()).connectionTimeout(Duration.ofSeconds(10))
                .maxReconnects(0).build();
        List<Connection> connections = new ArrayList<>();
        try {
            Connection responder = Nats.connect(options);
            connections.add(responder);
            Dispatcher d = responder.createDispatcher(m -> responder.publish(m.getReplyTo(), m.getData()));
            d.subscribe(subject);
            responder.flush(Duration.ofSeconds(10));
            Recorder latencies = new Recorder(3);
            AtomicLong requests = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            long measureFrom = System.nanoTime() + config.warmup().toNanos();
            long end = measureFrom + config.duration().toNanos();
            byte[] payload = new byte[config.size()];
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < config.clients(); i++) {
                Connection c = Nats.connect(options);
                connections.add(c);
                clients.add(Thread.ofPlatform().name("requester-" + i).start(() -> {
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        try {
                            Message reply = c.request(subject, payload, Duration.ofSeconds(5));
                            long t1 = System.nanoTime();
                            if (reply == null || reply.getData().length != payload.length) {
                                errors.incrementAndGet();
                            } else if (t0 >= measureFrom) {
                                latencies.recordValue((t1 - t0) / 1000);
                                requests.incrementAndGet();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        } catch (RuntimeException e) {
                            errors.incrementAndGet();
                        }
                    }
                }));
            }
            ServerCpu cpu = new ServerCpu(config.serverPid());
            waitUntil(measureFrom);
            latencies.reset();
            double cpuBefore = cpu.seconds();
            for (Thread t : clients) {
                t.join();
            }
            double cpuSeconds = cpu.measured() ? cpu.seconds() - cpuBefore : -1;
            var h = latencies.getIntervalHistogram();
            long n = requests.get();
            double seconds = config.duration().toNanos() / 1e9;
            if (!cpu.measured()) {
                err.println("no --server-pid: the server's CPU is not measured");
            }
            return new Report(config.server(), config.clients(), config.size(), n, n / seconds,
                    h.getValueAtPercentile(50), h.getValueAtPercentile(99), errors.get(), cpuSeconds,
                    cpu.measured() && n > 0 ? cpuSeconds * 1e6 / n : -1);
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    private static void waitUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, left / 1_000_000));
        }
    }
}
