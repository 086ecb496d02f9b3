package dev.switchboard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.wire.Durations;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A worker: {@code concurrency} slot threads, each claiming a job (a held claim), running the handler on it while a
 * scheduler thread heartbeats its lease, then completing or failing it under the lease.
 */
final class WorkerImpl implements Worker {
    private static final Duration CLAIM_WAIT = Duration.ofSeconds(30);
    private static final int MAX_ERROR = 1000;

    private final Rest rest;
    private final String queue;
    private final WorkerOptions options;
    private final JobHandler handler;
    private final WorkerListener listener;
    private final ScheduledExecutorService scheduler;
    private final List<Thread> slots = new ArrayList<>();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CountDownLatch stopped;
    private final Set<CompletableFuture<?>> claims = ConcurrentHashMap.newKeySet();
    private final Set<Run> running = ConcurrentHashMap.newKeySet();
    private final AtomicLong handled = new AtomicLong();
    private final AtomicBoolean outage = new AtomicBoolean();
    private final AtomicReference<SwitchboardException> failure = new AtomicReference<>();
    /** Jobs this worker may still claim: {@code maxJobs}, or unbounded. A slot takes one before claiming. */
    private final AtomicInteger unclaimed;

    WorkerImpl(Rest rest, String queue, WorkerOptions options, JobHandler handler) {
        this.rest = rest;
        this.queue = queue;
        this.options = options;
        this.handler = handler;
        this.listener = options.listener();
        this.stopped = new CountDownLatch(options.concurrency());
        this.unclaimed = new AtomicInteger(options.maxJobs() > 0 ? options.maxJobs() : Integer.MAX_VALUE);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "switchboard-worker-" + queue + "-lease");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        for (int i = 0; i < options.concurrency(); i++) {
            Thread t = new Thread(this::slot, "switchboard-worker-" + queue + "-" + i);
            t.setDaemon(true);
            slots.add(t);
        }
        slots.forEach(Thread::start);
    }

    @Override
    public String queue() {
        return queue;
    }

    @Override
    public long handled() {
        return handled.get();
    }

    @Override
    public void close() {
        stopping.countDown();
        claims.forEach(c -> c.cancel(true));
        try {
            long graceEnd = System.nanoTime() + options.closeGrace().toNanos();
            for (Thread t : slots) {
                if (t != Thread.currentThread()) {
                    t.join(Math.max(1, (graceEnd - System.nanoTime()) / 1_000_000));
                }
            }
            running.forEach(Run::interrupt);
            for (Thread t : slots) {
                if (t != Thread.currentThread()) {
                    t.join(TimeUnit.SECONDS.toMillis(30));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            scheduler.shutdownNow();
        }
    }

    @Override
    public SwitchboardException failure() {
        return failure.get();
    }

    @Override
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private boolean closing() {
        return stopping.getCount() == 0;
    }

    private void slot() {
        Backoff backoff = new Backoff(rest.options.reconnectMin(), rest.options.reconnectMax());
        try {
            while (!closing() && unclaimed.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0) {
                URI server = rest.endpoints.current();
                byte[] claimed;
                try {
                    claimed = claim(server);
                    if (claimed == null) {
                        unclaimed.incrementAndGet();
                    }
                    if (outage.compareAndSet(true, false)) {
                        listener.reconnected(server);
                    }
                } catch (CancellationException e) {
                    return;
                } catch (IOException e) {
                    unclaimed.incrementAndGet();
                    if (closing()) {
                        return;
                    }
                    rest.endpoints.failed(server);
                    if (outage.compareAndSet(false, true)) {
                        listener.unreachable(server, e);
                    }
                    pause(backoff.next());
                    continue;
                } catch (SwitchboardException e) {
                    unclaimed.incrementAndGet();
                    if (!e.retryable() && e.status() != 429) {
                        // Every claim would be refused the same way (an invalid queue name, say).
                        failure.compareAndSet(null, e);
                        stopping.countDown();
                        return;
                    }
                    pause(backoff.next());
                    continue;
                }
                backoff.reset();
                if (claimed != null) {
                    new Run(server, claimed).run();
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            stopped.countDown();
        }
    }

    /** A held claim: the job's JSON with its payload and lease, or null when the wait ended with none. */
    private byte[] claim(URI server) throws IOException, InterruptedException {
        String lease = options.lease() == null ? "" : "&lease=" + Durations.format(options.lease());
        HttpRequest request = rest.request(server, "/v1/queues/" + queue + "/claim?wait=" + Durations.format(CLAIM_WAIT) + lease)
                .timeout(CLAIM_WAIT.plus(rest.options.requestTimeout()))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        CompletableFuture<HttpResponse<byte[]>> f = rest.http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        claims.add(f);
        try {
            if (closing()) {
                f.cancel(true);
            }
            HttpResponse<byte[]> r = f.get();
            if (r.statusCode() == 204) {
                return null;
            }
            if (r.statusCode() == 200) {
                return r.body();
            }
            if (r.statusCode() / 100 == 5) {
                throw new IOException("HTTP " + r.statusCode() + ": " + Errors.of(r.statusCode(), r.body()).getMessage());
            }
            throw Errors.of(r.statusCode(), r.body());
        } catch (ExecutionException e) {
            Throwable cause = Errors.unwrap(e);
            if (cause instanceof CancellationException c) {
                throw c;
            }
            throw cause instanceof IOException io ? io : new IOException(Errors.describe(cause), cause);
        } finally {
            claims.remove(f);
        }
    }

    /** Waits for a backoff delay, cut short by {@link #close()}. */
    private void pause(Duration d) throws InterruptedException {
        stopping.await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One claimed job: the handler's run with heartbeats and progress, then its outcome under the lease. */
    private final class Run implements JobContext {
        private final URI server;
        private final JsonNode job;
        private final byte[] payload;
        private final String id;
        private final String token;
        private final long leaseNanos;
        private final AtomicReference<String> lost = new AtomicReference<>();
        private final AtomicReference<ObjectNode> latestProgress = new AtomicReference<>();
        private final Thread thread = Thread.currentThread();
        private volatile long leaseDeadline;
        private volatile boolean interrupted;
        /**
         * Held by every heartbeat and progress call, and by the switch to reporting the outcome: a call still under
         * way when the job completes would be refused (the job is finished) and read as a lost lease.
         */
        private final Object leaseCalls = new Object();
        private boolean reporting; // guarded by leaseCalls

        Run(URI server, byte[] raw) {
            this.server = server;
            this.job = Json.tree(raw);
            this.payload = Json.data(raw, "payload", "payloadEncoding");
            this.id = job.path("id").asText();
            this.token = job.path("lease").asText();
            this.leaseNanos = leaseNanos(job);
            this.leaseDeadline = System.nanoTime() + leaseNanos;
        }

        /** The claim's lease: as asked, or the queue's, read from the claim's times. */
        private long leaseNanos(JsonNode job) {
            if (options.lease() != null) {
                return options.lease().toNanos();
            }
            try {
                return Duration.between(Instant.parse(job.path("updated").asText()),
                        Instant.parse(job.path("leaseExpires").asText())).toNanos();
            } catch (RuntimeException e) {
                return Duration.ofSeconds(60).toNanos(); // the queues' default lease
            }
        }

        void run() {
            running.add(this);
            ScheduledFuture<?> heartbeats = null;
            try {
                listener.started(this);
                long interval = Math.max(leaseNanos / 3, TimeUnit.MILLISECONDS.toNanos(100));
                heartbeats = scheduler.scheduleWithFixedDelay(this::heartbeat, interval, interval, TimeUnit.NANOSECONDS);
                JobResult result;
                try {
                    result = handler.handle(this);
                } catch (JobFailure f) {
                    heartbeats.cancel(false);
                    outcome(() -> fail(f.getMessage(), f.retry()));
                    return;
                } catch (Exception | LinkageError | AssertionError e) {
                    heartbeats.cancel(false);
                    if (interrupted && closing()) {
                        outcome(() -> fail("the worker closed before the job finished", true));
                    } else {
                        outcome(() -> fail(message(e), true));
                    }
                    return;
                }
                heartbeats.cancel(false);
                outcome(() -> complete(result));
            } finally {
                if (heartbeats != null) {
                    heartbeats.cancel(false);
                }
                running.remove(this);
                Thread.interrupted(); // an interrupt meant for this job must not reach the next claim
            }
        }

        void interrupt() {
            interrupted = true;
            thread.interrupt();
        }

        /**
         * Sends the last progress still pending, then reports the outcome, unless the lease was lost meanwhile: then
         * the server has moved on without us.
         */
        private void outcome(Runnable report) {
            Thread.interrupted();
            synchronized (leaseCalls) {
                sendProgress();
                reporting = true;
            }
            if (lost.get() == null) {
                report.run();
            }
        }

        /** The latest progress not sent yet, if any; called holding {@link #leaseCalls}. */
        private void sendProgress() {
            ObjectNode latest = latestProgress.getAndSet(null);
            if (latest != null && lost.get() == null) {
                quickCall("progress", latest.toString());
            }
        }

        private void complete(JobResult result) {
            Rest.Answer a = leaseCall("complete", result.type(), HttpRequest.BodyPublishers.ofByteArray(result.data()));
            if (a == null) {
                return;
            }
            if (a.status() == 200) {
                finished(a, null);
            } else if (a.status() == 400 || a.status() == 413) {
                SwitchboardException refused = Errors.of(a.status(), a.body());
                listener.refused(id, refused);
                fail("the server refused the result: " + refused.getMessage(), false);
            } else {
                listener.refused(id, Errors.of(a.status(), a.body()));
            }
        }

        private void fail(String error, boolean retry) {
            String why = error == null || error.isBlank() ? "failed" : error;
            if (why.length() > MAX_ERROR) {
                why = why.substring(0, MAX_ERROR);
            }
            ObjectNode body = Json.MAPPER.createObjectNode().put("error", why).put("retry", retry);
            Rest.Answer a = leaseCall("fail", "application/json", HttpRequest.BodyPublishers.ofString(body.toString()));
            if (a == null) {
                return;
            }
            if (a.status() == 200) {
                finished(a, why);
            } else {
                listener.refused(id, Errors.of(a.status(), a.body()));
            }
        }

        private void finished(Rest.Answer a, String reason) {
            handled.incrementAndGet();
            listener.finished(Json.job(a.body()), reason);
        }

        /**
         * A final call under the lease, retried after connection failures and 5xx while the lease may still hold;
         * past that the server requeues the job by itself. Null when the lease was lost or the call gave up.
         */
        private Rest.Answer leaseCall(String op, String type, HttpRequest.BodyPublisher body) {
            Backoff backoff = new Backoff(rest.options.reconnectMin(), rest.options.reconnectMax());
            while (true) {
                URI at = rest.endpoints.current();
                try {
                    HttpResponse<byte[]> r = rest.once(leaseRequest(at, op, type, body));
                    if (r.statusCode() == 409 || r.statusCode() == 404) {
                        leaseLost(Errors.of(r.statusCode(), r.body()).getMessage());
                        return null;
                    }
                    if (r.statusCode() < 500) {
                        return new Rest.Answer(r.statusCode(), r.body(), r);
                    }
                } catch (IOException e) {
                    rest.endpoints.failed(at);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                if (System.nanoTime() - leaseDeadline > 0) {
                    return null;
                }
                try {
                    Thread.sleep(backoff.next().toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }

        private HttpRequest leaseRequest(URI at, String op, String type, HttpRequest.BodyPublisher body) {
            return rest.request(at, "/v1/jobs/" + Endpoints.segment(id) + "/" + op)
                    .timeout(rest.options.requestTimeout())
                    .header("Lease-Token", token).header("Content-Type", type).POST(body).build();
        }

        /** A heartbeat or progress call, not retried (the next one follows soon). */
        private boolean quickCall(String op, String body) {
            URI at = rest.endpoints.current();
            try {
                HttpResponse<byte[]> r = rest.once(leaseRequest(at, op, "application/json", body == null
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)));
                if (r.statusCode() == 409 || r.statusCode() == 404) {
                    leaseLost(Errors.of(r.statusCode(), r.body()).getMessage());
                }
                return r.statusCode() == 200;
            } catch (IOException e) {
                rest.endpoints.failed(at);
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private void heartbeat() {
            synchronized (leaseCalls) {
                if (reporting) {
                    return;
                }
                long sent = System.nanoTime();
                if (quickCall("heartbeat", null)) {
                    leaseDeadline = sent + leaseNanos;
                }
            }
        }

        private void leaseLost(String why) {
            if (lost.compareAndSet(null, why)) {
                listener.leaseLost(id, why);
                thread.interrupt();
            }
        }

        // ---- JobContext

        @Override
        public String id() {
            return id;
        }

        @Override
        public String queue() {
            return queue;
        }

        @Override
        public int attempt() {
            return job.path("attempt").asInt();
        }

        @Override
        public String payloadType() {
            return job.path("payloadType").asText("application/octet-stream");
        }

        @Override
        public byte[] payload() {
            return payload.clone();
        }

        @Override
        public String payloadText() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        @Override
        public void progress(int percent, String message) {
            if (percent < 0 || percent > 100) {
                throw new IllegalArgumentException("percent must be 0 to 100, got " + percent);
            }
            if (message != null && message.length() > 1024) {
                throw new IllegalArgumentException("a progress message is at most 1024 chars, got " + message.length());
            }
            ObjectNode p = Json.MAPPER.createObjectNode().put("percent", percent).put("message", message);
            if (latestProgress.getAndSet(p) == null) {
                scheduler.execute(() -> {
                    synchronized (leaseCalls) {
                        if (!reporting) {
                            sendProgress();
                        }
                    }
                });
            }
        }

        @Override
        public boolean leaseLost() {
            return lost.get() != null;
        }
    }

    private static String message(Throwable e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    }
}
