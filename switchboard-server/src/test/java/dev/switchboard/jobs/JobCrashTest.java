package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.reversed;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import dev.switchboard.testing.ServerProcess;
import dev.switchboard.testing.Slow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Crash safety: the server runs as a separate OS process (fsync=always) and is killed with SIGKILL in the middle of a
 * run, then restarted on the same data directory and port. Clients and workers retry connection errors. Nothing that
 * was acknowledged is lost; the only work done twice is work whose lease was in flight at the kill.
 */
@Slow
@Timeout(value = 240, unit = SECONDS)
class JobCrashTest {
    private static final int JOBS = 300;
    private static final int SUBMITTERS = 2;
    private static final int WORKERS = 3;
    private static final String QUEUE = "crash";

    private Path dataDir;
    private Path logFile;
    private int port;
    private Process child;
    private HttpClient client;
    private JobHttp http;
    /** Open while the server is up; a client that lost its connection waits here for the restart. */
    private volatile CountDownLatch up = new CountDownLatch(0);

    @BeforeEach
    void setUp() throws IOException {
        dataDir = Files.createTempDirectory("switchboard-crash");
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        logFile = Files.createDirectories(Path.of("target", "crash-test")).resolve("server-" + port + ".log");
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2))
                .build();
        http = new JobHttp(client, "http://127.0.0.1:" + port);
    }

    @AfterEach
    void tearDown() throws Exception {
        up.countDown();
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(30, SECONDS);
        }
        client.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void startServer() throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(List.of(ServerProcess.command(port, dataDir, "always")));
        child = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        Process p = child;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(p.isAlive()).as("server process is alive (log: %s)", logFile.toAbsolutePath()).isTrue();
            try {
                return http.get("/healthz").status() == 200;
            } catch (UncheckedIOException e) {
                return false;
            }
        });
    }

    /** SIGKILL: no shutdown hook, no flush, no close. */
    private void killServer() throws InterruptedException {
        child.destroyForcibly();
        assertThat(child.waitFor(30, SECONDS)).isTrue();
    }

    /** After a connection error: wait until the server is up again. */
    private void awaitUp() {
        try {
            assertThat(up.await(120, SECONDS)).as("server back up").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aKilledServerLosesNoAcknowledgedJobAndRedoesOnlyLeasesInFlight() throws Exception {
        startServer();
        assertThat(http.put("/v1/queues/" + QUEUE, "{\"maxAttempts\":5}").status()).isEqualTo(200);

        Map<String, String> acked = new ConcurrentHashMap<>(); // id -> payload, once the submit was answered 202
        Map<String, List<Integer>> claimedAttempts = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> completions = new ConcurrentHashMap<>();
        AtomicInteger submitRetries = new AtomicInteger();
        AtomicInteger fenced = new AtomicInteger();
        AtomicInteger submittersDone = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<?>> tasks = new ArrayList<>();

        try (ExecutorService threads = Executors.newFixedThreadPool(SUBMITTERS + WORKERS)) {
            for (int s = 0; s < SUBMITTERS; s++) {
                int first = s;
                tasks.add(threads.submit(() -> {
                    for (int i = first; i < JOBS; i += SUBMITTERS) {
                        String payload = "crash-" + i;
                        while (true) {
                            Response r;
                            try {
                                // The key makes a retry of a submit whose answer was lost return the same job.
                                r = http.submitRaw(QUEUE, "", "text/plain", payload, "Idempotency-Key", "k" + i);
                            } catch (UncheckedIOException e) {
                                submitRetries.incrementAndGet();
                                awaitUp();
                                continue;
                            }
                            assertThat(r.status()).as("submit: %s", r).isEqualTo(202);
                            assertThat(acked.put(r.json().get("id").asText(), payload)).isNull();
                            break;
                        }
                    }
                    submittersDone.incrementAndGet();
                    return null;
                }));
            }
            for (int w = 0; w < WORKERS; w++) {
                tasks.add(threads.submit(() -> {
                    while (!stop.get()) {
                        Response r;
                        try {
                            r = http.claimRaw(QUEUE, "?wait=2s&lease=2s");
                        } catch (UncheckedIOException e) {
                            awaitUp();
                            continue;
                        }
                        if (r.status() == 204) {
                            continue;
                        }
                        assertThat(r.status()).as("claim: %s", r).isEqualTo(200);
                        JsonNode c = r.json();
                        String id = c.get("id").asText();
                        claimedAttempts.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>())
                                .add(c.get("attempt").asInt());
                        String result = reversed(c.get("payload").asText());
                        while (true) {
                            Response d;
                            try {
                                d = http.complete(id, c.get("lease").asText(), result);
                            } catch (UncheckedIOException e) {
                                awaitUp(); // then retry with the same token: the lease may still hold
                                continue;
                            }
                            if (d.status() == 200) {
                                completions.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                            } else {
                                JobHttp.assertError(d, 409, "lease_lost", "lease_expired");
                                fenced.incrementAndGet();
                            }
                            break;
                        }
                    }
                    return null;
                }));
            }

            // Kill in the middle: half submitted, some done, the rest still to come.
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(5)).until(() -> {
                rethrowFailures(tasks);
                return acked.size() >= JOBS / 2 && completions.size() >= 20;
            });
            up = new CountDownLatch(1);
            long killedAt = System.currentTimeMillis();
            int completedAtKill = completions.size();
            int ackedAtKill = acked.size();
            killServer();
            long restartedAt = System.currentTimeMillis();
            startServer();
            up.countDown();

            await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(250)).until(() -> {
                rethrowFailures(tasks);
                return submittersDone.get() == SUBMITTERS && http.queue(QUEUE).get("succeeded").asInt() >= JOBS;
            });
            stop.set(true);
            for (Future<?> task : tasks) {
                task.get(30, SECONDS);
            }

            assertThat(completedAtKill).as("the kill came mid-run").isLessThan(JOBS);

            // Nothing lost, and no job made twice by a retried submit.
            assertThat(acked).hasSize(JOBS);
            assertThat(acked.values()).doesNotHaveDuplicates();
            JsonNode q = http.queue(QUEUE);
            assertThat(List.of(q.get("depth").asInt(), q.get("running").asInt(), q.get("succeeded").asInt(),
                    q.get("failed").asInt(), q.get("cancelled").asInt()))
                    .as("depth, running, succeeded, failed, cancelled of %s", q)
                    .containsExactly(0, 0, JOBS, 0, 0);
            List<String> redone = new ArrayList<>();
            for (Map.Entry<String, String> e : acked.entrySet()) {
                JsonNode job = http.job(e.getKey());
                assertThat(job.get("status").asText()).isEqualTo("succeeded");
                assertThat(job.get("result").asText()).as("result of %s", job).isEqualTo(reversed(e.getValue()));
                if (job.get("attempt").asInt() > 1) {
                    redone.add(e.getKey());
                }
            }

            System.out.printf("JobCrashTest: killed with %d of %d jobs acknowledged and %d completed; %d submits "
                            + "retried, %d completes fenced, %d jobs redone (attempt >= 2)%n", ackedAtKill, JOBS,
                    completedAtKill, submitRetries.get(), fenced.get(), redone.size());

            // A success is told to one worker at most.
            assertThat(completions.entrySet()).allSatisfy(e -> assertThat(e.getValue().get())
                    .as("successful completes of %s", e.getKey()).isEqualTo(1));
            // Work done twice shows attempt >= 2, each claim under its own attempt.
            claimedAttempts.forEach((id, attempts) -> {
                if (attempts.size() > 1) {
                    assertThat(redone).as("claimed %s times: %s", attempts, id).contains(id);
                    assertThat(attempts).as("attempts of the claims of %s", id).doesNotHaveDuplicates();
                }
            });
            // ...and only leases in flight at the kill were redone: at most one per worker, each claimed by the old
            // server and requeued by the restarted one when its lease ran out.
            assertThat(redone).hasSizeLessThanOrEqualTo(WORKERS);
            for (String id : redone) {
                List<JsonNode> events = events(id);
                JsonNode firstRun = events.stream().filter(m -> m.get("data").get("status").asText().equals("running"))
                        .findFirst().orElseThrow();
                assertThat(time(firstRun)).as("first claim of %s", id).isLessThan(restartedAt);
                JsonNode requeue = events.stream().filter(m -> m.get("data").get("status").asText().equals("queued")
                        && m.get("data").get("attempt").asInt() == 2).findFirst().orElseThrow();
                assertThat(requeue.get("data").get("error").asText()).isEqualTo("lease expired");
                assertThat(time(requeue)).as("requeue of %s (killed at %d)", id, killedAt)
                        .isGreaterThanOrEqualTo(killedAt - 500);
            }
        } finally {
            stop.set(true);
            up.countDown();
        }
    }

    private List<JsonNode> events(String id) {
        Response r = http.get("/v1/topics/" + JobService.topicOf(id) + "/messages?from=earliest");
        assertThat(r.status()).isEqualTo(200);
        List<JsonNode> events = new ArrayList<>();
        r.json().get("messages").forEach(events::add);
        return events;
    }

    private static long time(JsonNode message) {
        return Instant.parse(message.get("time").asText()).toEpochMilli();
    }

    private static void rethrowFailures(List<Future<?>> tasks) throws Exception {
        for (Future<?> t : tasks) {
            if (t.isDone()) {
                t.get(); // a failed assertion in a client or worker fails the test now
            }
        }
    }

    @Test
    void aRunningJobIsStillCompletableWithItsTokenAfterAKillAndRestart() throws Exception {
        startServer();
        String finished = http.submit(QUEUE, "text/plain", "finished").get("id").asText();
        String t0 = http.claim(QUEUE, "").get("lease").asText();
        assertThat(http.complete(finished, t0, "dehsinif").status()).isEqualTo(200);
        String running = http.submit(QUEUE, "text/plain", "in flight").get("id").asText();
        JsonNode claim = http.claim(QUEUE, "?lease=60s");
        String token = claim.get("lease").asText();
        assertThat(http.progress(running, token, "{\"percent\":30}").status()).isEqualTo(200);
        String waiting = http.submit(QUEUE, "text/plain", "still queued").get("id").asText();
        JsonNode runningBefore = http.job(running);
        JsonNode waitingBefore = http.job(waiting);

        killServer();
        startServer();

        http.assertUnchanged(runningBefore);
        http.assertUnchanged(waitingBefore);
        JobHttp.assertError(http.complete(running, "not-" + token, "x"), 409, "lease_lost");
        Response done = http.complete(running, token, reversed("in flight"));
        assertThat(done.status()).isEqualTo(200);
        assertThat(done.json().get("status").asText()).isEqualTo("succeeded");
        assertThat(done.json().get("attempt").asInt()).isEqualTo(1);
        assertThat(http.result(running).text()).isEqualTo(reversed("in flight"));
        assertThat(http.result(finished).text()).isEqualTo("dehsinif");

        JsonNode next = http.claim(QUEUE, "");
        assertThat(next.get("id").asText()).isEqualTo(waiting);
        assertThat(next.get("payload").asText()).isEqualTo("still queued");
        JsonNode q = http.queue(QUEUE);
        assertThat(q.get("succeeded").asInt()).isEqualTo(2);
        assertThat(q.get("running").asInt()).isEqualTo(1);
        assertThat(q.get("depth").asInt()).isZero();
    }
}
