package dev.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * {@code bench jobs}: jobs end to end. Closed-loop submitters each submit a job with {@code ?wait=} (synchronous
 * request/reply: the answer is the submitter's notification) and wait for it; workers claim with a held wait (up to
 * {@code claimMax} jobs per claim) and complete at once with the payload as result. Since workers do no work, a job's
 * latency is what the server (and the four HTTP exchanges a job takes) adds. Each submitter and worker is a virtual
 * thread with one kept-alive connection ({@link KeepAliveHttp}; a worker pipelines the completions of one claim), so
 * what is measured is the server and the exchanges, not an HTTP client's own machinery.
 */
public final class JobsBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SUBMIT_WAIT = Duration.ofSeconds(30);

    /**
     * The knobs of one run.
     *
     * @param claimMax jobs a worker claims at once ({@code max=}) and completes side by side; 1 claims without it
     */
    public record Config(URI server, int workers, int submitters, int claimMax, int size, Duration warmup,
                         Duration duration, String queue) {
        public static String freshQueue() {
            return "bench-jobs." + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
        }
    }

    /**
     * The outcome: jobs completed in the measured time and submit-to-result latency. Errors are {@code {"total":N}}
     * as in the durable, idle and longpoll reports, which is where {@code bench report} reads them.
     */
    public record Report(int workers, int submitters, int claimMax, int size, double durationSeconds, long jobs,
                         double jobsPerSecond, LatencyReport latencyMs, BenchReport.Errors errors,
                         List<String> errorSamples) implements BenchReport.Counted {
        @Override
        public String toText() {
            return text(String.format(Locale.ROOT, "jobs        %d workers%s, %d submitters, %d-byte payloads%n",
                    workers, claimMax > 1 ? " claiming up to " + claimMax + " jobs each" : "", submitters, size)
                    + String.format(Locale.ROOT, "measured    %.1f s%n", durationSeconds)
                    + String.format(Locale.ROOT, "completed   %,d jobs  %,.0f jobs/s%n", jobs, jobsPerSecond)
                    + LatencyReport.line(latencyMs));
        }
    }

    private final Config config;
    private final PrintWriter progress;
    private final Recorder latency = new Recorder(3);
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final List<String> errorSamples = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile boolean measuring;
    private volatile boolean stopSubmitting;
    private volatile boolean stopping;

    public JobsBenchmark(Config config, PrintWriter progress) {
        this.config = config;
        this.progress = progress;
    }

    public Report run() throws InterruptedException {
        byte[] payload = "x".repeat(config.size()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        List<Thread> workers = new ArrayList<>();
        List<Thread> submitters = new ArrayList<>();
        for (int i = 0; i < config.workers(); i++) {
            workers.add(Thread.ofVirtual().name("bench-worker-" + i).start(this::work));
        }
        for (int i = 0; i < config.submitters(); i++) {
            submitters.add(Thread.ofVirtual().name("bench-submitter-" + i).start(() -> submit(payload)));
        }
        Thread.sleep(config.warmup().toMillis());
        latency.reset();
        completed.set(0);
        measuring = true;
        long start = System.nanoTime();
        long end = start + config.duration().toNanos();
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(1000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            progress.printf(Locale.ROOT, "%5.1fs  %,d jobs%n", (System.nanoTime() - start) / 1e9, completed.get());
            progress.flush();
        }
        measuring = false;
        long jobs = completed.get();
        double seconds = (System.nanoTime() - start) / 1e9;
        LatencyReport lat = LatencyReport.of(latency.getIntervalHistogram());
        // Submitters stop first, so the workers still finish the jobs they wait for.
        stopSubmitting = true;
        for (Thread t : submitters) {
            t.join(SUBMIT_WAIT.toMillis());
        }
        stopping = true;
        for (Thread t : workers) {
            t.join(SUBMIT_WAIT.toMillis());
        }
        return new Report(config.workers(), config.submitters(), config.claimMax(), config.size(), seconds, jobs,
                jobs / seconds, lat, new BenchReport.Errors(errors.get()), List.copyOf(errorSamples));
    }

    private void submit(byte[] payload) {
        KeepAliveHttp.Request submit = new KeepAliveHttp.Request("POST", "/v1/queues/" + config.queue()
                + "/jobs?wait=" + SUBMIT_WAIT.toSeconds() + "s", Map.of("Content-Type", "text/plain"), payload);
        try (KeepAliveHttp http = new KeepAliveHttp(config.server())) {
            while (!stopSubmitting) {
                submitOne(http, submit);
            }
        }
    }

    private void submitOne(KeepAliveHttp http, KeepAliveHttp.Request submit) {
        long t0 = System.nanoTime();
        try {
            KeepAliveHttp.Response r = http.send(submit);
            if (r.status() != 200 || !JSON.readTree(r.body()).path("status").asText().equals("succeeded")) {
                error("submit answered " + r.status() + ": " + new String(r.body()));
                return;
            }
            if (measuring) {
                latency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                completed.incrementAndGet();
            }
        } catch (IOException e) {
            error("submit failed: " + e);
        }
    }

    private void work() {
        boolean several = config.claimMax() > 1;
        KeepAliveHttp.Request claim = new KeepAliveHttp.Request("POST", "/v1/queues/" + config.queue()
                + "/claim?wait=1s&lease=30s" + (several ? "&max=" + config.claimMax() : ""), Map.of(), new byte[0]);
        try (KeepAliveHttp http = new KeepAliveHttp(config.server())) {
            while (!stopping) {
                workOne(http, claim, several);
            }
        }
    }

    private void workOne(KeepAliveHttp http, KeepAliveHttp.Request claim, boolean several) {
        try {
            KeepAliveHttp.Response r = http.send(claim);
            if (r.status() == 204) {
                return;
            }
            if (r.status() != 200) {
                error("claim answered " + r.status());
                return;
            }
            JsonNode answer = JSON.readTree(r.body());
            List<JsonNode> jobs = new ArrayList<>();
            if (several) {
                answer.get("jobs").forEach(jobs::add);
            } else {
                jobs.add(answer);
            }
            // Pipelined, as a worker finishing its jobs side by side would, and all before the next claim.
            for (KeepAliveHttp.Response done : http.pipeline(jobs.stream().map(JobsBenchmark::complete).toList())) {
                if (done.status() != 200) {
                    error("complete answered " + done.status());
                }
            }
        } catch (IOException e) {
            error("worker failed: " + e);
        }
    }

    private static KeepAliveHttp.Request complete(JsonNode job) {
        return new KeepAliveHttp.Request("POST", "/v1/jobs/" + job.get("id").asText() + "/complete",
                Map.of("Lease-Token", job.get("lease").asText(), "Content-Type", "text/plain"),
                job.get("payload").asText().getBytes(StandardCharsets.UTF_8));
    }

    private void error(String sample) {
        if (stopSubmitting) {
            return; // requests cut short by the end of the run
        }
        errors.incrementAndGet();
        if (errorSamples.size() < 5) {
            errorSamples.add(sample);
        }
    }
}
