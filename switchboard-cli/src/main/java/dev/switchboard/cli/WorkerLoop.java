package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.wire.Durations;
import dev.switchboard.cli.JobsClient.Answer;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The loop of {@code switchboard jobs worker}: {@code concurrency} slots, each claiming a job (held claim of 30 s),
 * running the command on its payload and reporting the outcome under the job's lease. Connection failures are
 * retried with backoff, so workers ride out a server restart. {@link #stop()} stops claiming, stops the commands
 * and hands their jobs back to the queue.
 */
final class WorkerLoop {
    record Settings(String queue, List<String> command, Duration lease, int concurrency, int maxJobs,
                    String resultType, boolean retryOnFailure, int maxResultBytes) {}

    private static final Duration CLAIM_WAIT = Duration.ofSeconds(30);
    private static final long KILL_GRACE_SECONDS = 5;
    private static final int MAX_ERROR_LINE = 1000;
    private static final int MAX_PROGRESS_MESSAGE = 1024;
    /** {@code progress <percent> [message]}, the one stderr line the worker reads instead of passing it on. */
    private static final Pattern PROGRESS = Pattern.compile("progress\\s+(\\d{1,3}(?:\\.\\d+)?)%?(?:\\s+(.*))?");

    private final JobsClient client;
    private final Settings settings;
    private final PrintWriter err;
    /** Jobs this worker may still claim: {@code --max-jobs}, or unbounded. A slot takes one before claiming. */
    private final AtomicInteger unclaimed;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Set<CompletableFuture<?>> claims = ConcurrentHashMap.newKeySet();
    private final Set<JobRun> running = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean outage = new AtomicBoolean();
    private final AtomicReference<RuntimeException> fatal = new AtomicReference<>();

    WorkerLoop(JobsClient client, Settings settings, PrintWriter err) {
        this.client = client;
        this.settings = settings;
        this.err = err;
        this.unclaimed = new AtomicInteger(settings.maxJobs() > 0 ? settings.maxJobs() : Integer.MAX_VALUE);
    }

    /** Runs until {@code --max-jobs} jobs were handled, {@link #stop()}, or an error no retry can fix. */
    int run() throws InterruptedException {
        try {
            List<Thread> slots = new ArrayList<>();
            for (int i = 0; i < settings.concurrency(); i++) {
                slots.add(Thread.ofPlatform().daemon().name("jobs-worker-" + i).start(this::slot));
            }
            for (Thread t : slots) {
                t.join();
            }
        } finally {
            finished.countDown();
        }
        if (fatal.get() != null) {
            throw fatal.get();
        }
        return 0;
    }

    /** Any thread: stop claiming, end the running commands and hand their jobs back. */
    void stop() {
        stopping.countDown();
        claims.forEach(c -> c.cancel(true));
        running.forEach(JobRun::kill);
    }

    boolean awaitFinished(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private boolean stopping() {
        return stopping.getCount() == 0;
    }

    private void slot() {
        Backoff backoff = JobsClient.backoff();
        while (!stopping() && unclaimed.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0) {
            JsonNode job;
            byte[] raw;
            try {
                Answer a = claim();
                if (outage.compareAndSet(true, false)) {
                    say("connected to " + client.base() + " again");
                }
                if (a.status() == 204) {
                    unclaimed.incrementAndGet();
                    continue;
                }
                raw = a.body();
                job = a.json();
            } catch (CancellationException e) {
                return;
            } catch (IOException e) {
                unclaimed.incrementAndGet();
                if (stopping()) {
                    return;
                }
                noteOutage(e);
                pause(backoff.next());
                continue;
            } catch (ServerError e) {
                unclaimed.incrementAndGet();
                if (e.status == 429 || e.status >= 500) {
                    say("claim refused (" + e.getMessage() + "); retrying");
                    pause(backoff.next());
                    continue;
                }
                fatal.compareAndSet(null, e);
                stop();
                return;
            } catch (InterruptedException e) {
                return;
            }
            backoff.reset();
            new JobRun(job, raw).run();
        }
    }

    private Answer claim() throws IOException, InterruptedException {
        HttpRequest req = client.request("/v1/queues/" + Urls.pathSegment(settings.queue()) + "/claim?wait="
                        + Durations.format(CLAIM_WAIT) + "&lease=" + Durations.format(settings.lease()))
                .timeout(JobsClient.withMargin(CLAIM_WAIT)).POST(HttpRequest.BodyPublishers.noBody()).build();
        CompletableFuture<HttpResponse<byte[]>> f = client.sendAsync(req);
        claims.add(f);
        try {
            if (stopping()) {
                f.cancel(true);
            }
            HttpResponse<byte[]> r = f.get();
            return JobsClient.expect(new Answer(r.statusCode(), r.body()), 200, 204);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CancellationException c) {
                throw c;
            }
            throw e.getCause() instanceof IOException io ? client.unreachable(io)
                    : new IOException(e.getCause().toString(), e.getCause());
        } finally {
            claims.remove(f);
        }
    }

    /** Waits for a backoff delay, cut short by {@link #stop()}. */
    private void pause(long millis) {
        try {
            stopping.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Says the first failure of an outage; the rest are retried quietly until a claim gets through again. */
    private void noteOutage(IOException e) {
        if (outage.compareAndSet(false, true)) {
            say(e.getMessage() + "; retrying");
        }
    }

    private void say(String line) {
        err.println(line);
        err.flush();
    }

    /** One claimed job: runs the command, feeds it the payload, relays progress and heartbeats, reports the end. */
    private final class JobRun {
        private final JsonNode job;
        private final byte[] raw;
        private final String id;
        private final String token;
        private final long leaseNanos = settings.lease().toNanos();
        private final CountDownLatch done = new CountDownLatch(1);
        private final AtomicReference<String> lost = new AtomicReference<>();
        private final AtomicReference<Progress> latestProgress = new AtomicReference<>();
        private final ExecutorService progressSender =
                Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("jobs-progress").factory());
        private volatile long leaseDeadline;
        private volatile String lastErrorLine;
        private volatile boolean tooLarge;
        private Process process;
        private boolean killed;

        JobRun(JsonNode job, byte[] raw) {
            this.job = job;
            this.raw = raw;
            this.id = job.path("id").asText();
            this.token = job.path("lease").asText();
            this.leaseDeadline = System.nanoTime() + leaseNanos;
        }

        void run() {
            running.add(this);
            long started = System.nanoTime();
            try {
                if (stopping()) {
                    handBack("the worker stopped before running it");
                    return;
                }
                say("job " + id + " started (attempt " + job.path("attempt").asInt() + ")");
                if (!start()) {
                    return;
                }
                Thread stdin = Thread.ofPlatform().daemon().start(this::writePayload);
                ByteArrayOutputStream stdout = new ByteArrayOutputStream();
                Thread out = Thread.ofPlatform().daemon().start(() -> collect(process.getInputStream(), stdout));
                Thread errors = Thread.ofPlatform().daemon().start(this::readStderr);
                Thread heartbeats = Thread.ofPlatform().daemon().start(this::heartbeats);
                int exit = process.waitFor();
                out.join();
                errors.join();
                stdin.join();
                done.countDown();
                heartbeats.join();
                progressSender.shutdown();
                progressSender.awaitTermination(1, TimeUnit.MINUTES);
                finish(exit, stdout.toByteArray(), (System.nanoTime() - started) / 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
            } finally {
                done.countDown();
                progressSender.shutdownNow();
                running.remove(this);
            }
        }

        private boolean start() {
            ProcessBuilder pb = new ProcessBuilder(settings.command());
            Map<String, String> env = pb.environment();
            env.put("SWITCHBOARD_JOB_ID", id);
            env.put("SWITCHBOARD_JOB_QUEUE", job.path("queue").asText());
            env.put("SWITCHBOARD_JOB_ATTEMPT", job.path("attempt").asText());
            env.put("SWITCHBOARD_PAYLOAD_TYPE", job.path("payloadType").asText());
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                // Every job would fail the same way: give this one back and stop rather than fail the whole queue.
                String why = "cannot run " + settings.command().get(0) + ": " + e.getMessage().strip();
                handBack("the worker " + why);
                fatal.compareAndSet(null, new IllegalStateException(why, e));
                stop();
                return false;
            }
            boolean killNow;
            synchronized (this) {
                process = p;
                killNow = killed;
            }
            if (killNow) {
                kill();
            }
            return true;
        }

        /** Stops the command: SIGTERM to it and what it started, SIGKILL for whatever is left after a grace. */
        void kill() {
            Process p;
            synchronized (this) {
                killed = true;
                p = process;
            }
            if (p == null || !p.isAlive()) {
                return;
            }
            List<ProcessHandle> family = new ArrayList<>(p.descendants().toList());
            family.add(p.toHandle());
            family.forEach(ProcessHandle::destroy);
            CompletableFuture.delayedExecutor(KILL_GRACE_SECONDS, TimeUnit.SECONDS).execute(() ->
                    family.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly));
        }

        private void finish(int exit, byte[] stdout, long millis) {
            if (lost.get() != null) {
                say("job " + id + " lease lost (" + lost.get() + "); the command was stopped");
            } else if (tooLarge) {
                report("fail", failure("the result is larger than " + settings.maxResultBytes()
                        + " bytes (--max-result-bytes, the server's message limit)", false));
            } else if (exit == 0) {
                complete(stdout, millis);
            } else if (stopping()) {
                handBack("the worker stopped (exit status " + exit + ")");
            } else {
                String line = lastErrorLine;
                report("fail", failure("exit status " + exit + (line == null ? "" : ": " + line),
                        settings.retryOnFailure()));
            }
        }

        private void complete(byte[] result, long millis) {
            Answer a = call(leaseRequest("complete", settings.resultType(), HttpRequest.BodyPublishers.ofByteArray(result)),
                    "complete");
            if (a == null) {
                return;
            }
            if (a.status() == 200) {
                say("job " + id + " succeeded (" + result.length + " bytes, " + millis + " ms)");
            } else if (a.status() == 400 || a.status() == 413) {
                report("fail", failure("the server refused the result: "
                        + ServerError.of(a.status(), a.body()).getMessage(), false));
            } else {
                say("job " + id + ": complete refused: " + ServerError.of(a.status(), a.body()).getMessage());
            }
        }

        /** {@code POST /v1/jobs/{id}/{op}} under this job's lease. */
        private HttpRequest.Builder leaseRequest(String op, String contentType, HttpRequest.BodyPublisher body) {
            return client.request("/v1/jobs/" + Urls.pathSegment(id) + "/" + op)
                    .header(JobsClient.LEASE_TOKEN, token).header("Content-Type", contentType).POST(body);
        }

        private void handBack(String why) {
            report("fail", failure(why, true));
        }

        private ObjectNode failure(String error, boolean retry) {
            return Http.JSON.createObjectNode().put("error", error).put("retry", retry);
        }

        private void report(String op, ObjectNode body) {
            Answer a = call(leaseRequest(op, "application/json", HttpRequest.BodyPublishers.ofString(body.toString())), op);
            if (a == null) {
                return;
            }
            if (a.status() == 200) {
                JsonNode j = a.json();
                say("job " + id + " " + j.path("status").asText()
                        + (j.path("status").asText().equals("queued") ? " again" : "") + ": " + body.get("error").asText());
            } else {
                say("job " + id + ": " + op + " refused: " + ServerError.of(a.status(), a.body()).getMessage());
            }
        }

        /**
         * Sends a final lease call, retrying connection failures and 5xx while the lease may still hold; after that
         * the server requeues the job by itself. Null when lost (409/404 or gave up), else the answer.
         */
        private Answer call(HttpRequest.Builder req, String op) {
            Backoff backoff = JobsClient.backoff();
            while (true) {
                try {
                    Answer a = client.send(req.build());
                    if (a.status() == 409 || a.status() == 404) {
                        say("job " + id + " lease lost before " + op + " ("
                                + ServerError.of(a.status(), a.body()).getMessage() + ")");
                        return null;
                    }
                    if (a.status() < 500) {
                        return a;
                    }
                } catch (IOException e) {
                    noteOutage(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                if (System.nanoTime() > leaseDeadline) {
                    say("job " + id + ": gave up on " + op + " (its lease has run out; the server will requeue it)");
                    return null;
                }
                try {
                    Thread.sleep(backoff.next());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }

        private void writePayload() {
            try (OutputStream in = process.getOutputStream()) {
                in.write(JobsClient.dataBytes(raw, "payload", "payloadEncoding"));
            } catch (IOException ignored) {
                // the command closed its stdin without reading it all: its choice
            }
        }

        private void collect(InputStream stdout, ByteArrayOutputStream into) {
            byte[] buf = new byte[65536];
            try (stdout) {
                for (int n; (n = stdout.read(buf)) >= 0; ) {
                    if (into.size() + n > settings.maxResultBytes()) {
                        tooLarge = true;
                        kill();
                        return;
                    }
                    into.write(buf, 0, n);
                }
            } catch (IOException ignored) {
                // the pipe closes when the command is killed
            }
        }

        private void readStderr() {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = PROGRESS.matcher(line.strip());
                    if (m.matches()) {
                        int percent = (int) Math.min(100, Math.round(Double.parseDouble(m.group(1))));
                        String message = m.group(2) == null || m.group(2).isBlank() ? null : m.group(2).strip();
                        if (message != null && message.length() > MAX_PROGRESS_MESSAGE) {
                            message = message.substring(0, MAX_PROGRESS_MESSAGE);
                        }
                        offerProgress(new Progress(percent, message));
                    } else {
                        say(line);
                        if (!line.isBlank()) {
                            lastErrorLine = line.length() > MAX_ERROR_LINE ? line.substring(0, MAX_ERROR_LINE) : line;
                        }
                    }
                }
            } catch (IOException ignored) {
                // the pipe closes when the command is killed
            }
        }

        /** Only the latest progress is worth sending: a command reporting faster than the server answers skips some. */
        private void offerProgress(Progress p) {
            if (latestProgress.getAndSet(p) == null) {
                progressSender.execute(() -> {
                    Progress latest = latestProgress.getAndSet(null);
                    if (latest != null) {
                        leaseCall("progress", latest.json());
                    }
                });
            }
        }

        private void heartbeats() {
            long interval = Math.max(leaseNanos / 3, TimeUnit.MILLISECONDS.toNanos(100));
            try {
                while (!done.await(interval, TimeUnit.NANOSECONDS)) {
                    long sent = System.nanoTime();
                    if (leaseCall("heartbeat", null)) {
                        leaseDeadline = sent + leaseNanos;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** A progress or heartbeat call, not retried (the next one follows soon). False unless it was accepted. */
        private boolean leaseCall(String op, JsonNode body) {
            HttpRequest req = leaseRequest(op, "application/json", body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.toString())).build();
            try {
                Answer a = client.send(req);
                if (a.status() == 409 || a.status() == 404) {
                    if (lost.compareAndSet(null, ServerError.of(a.status(), a.body()).getMessage())) {
                        kill();
                    }
                } else if (a.status() != 200) {
                    say("job " + id + ": " + op + " refused: " + ServerError.of(a.status(), a.body()).getMessage());
                }
                return a.status() == 200;
            } catch (IOException e) {
                noteOutage(e);
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private record Progress(int percent, String message) {
        JsonNode json() {
            return Http.JSON.createObjectNode().put("percent", percent).put("message", message);
        }
    }
}
