package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.reversed;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.wire.Payloads;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Concurrency: clients submitting and workers claiming at the same time on one queue, over real sockets. Every job
 * is claimed and completed exactly once, with the result computed from its own payload, and none is left behind.
 */
@Slow
class JobLoadTest {
    private static final int JOBS = 1000;
    private static final int SUBMITTERS = 4;
    private static final int WORKERS = 4;
    private static final String QUEUE = "load";

    @Test
    @Timeout(value = 180, unit = SECONDS)
    void aThousandJobsFromFourClientsAreEachCompletedExactlyOnceByFourWorkers() throws Exception {
        Map<String, String> payloads = new ConcurrentHashMap<>();
        Map<String, String> claimedPayloads = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> claims = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> completions = new ConcurrentHashMap<>();
        AtomicInteger completed = new AtomicInteger();

        try (TestServer server = TestServer.start();
             ExecutorService threads = Executors.newFixedThreadPool(SUBMITTERS + WORKERS)) {
            JobHttp http = new JobHttp(server.http(), server.url());
            long start = System.nanoTime();
            long deadline = start + SECONDS.toNanos(150);
            List<Future<?>> tasks = new ArrayList<>();
            for (int s = 0; s < SUBMITTERS; s++) {
                int first = s;
                tasks.add(threads.submit(() -> {
                    for (int i = first; i < JOBS; i += SUBMITTERS) {
                        String payload = "job-" + i + "-" + UUID.randomUUID();
                        String id = http.submit(QUEUE, "text/plain", payload).get("id").asText();
                        assertThat(payloads.put(id, payload)).as("a new id per submit").isNull();
                    }
                    return null;
                }));
            }
            for (int w = 0; w < WORKERS; w++) {
                tasks.add(threads.submit(() -> {
                    while (completed.get() < JOBS && System.nanoTime() < deadline) {
                        Response r = http.claimRaw(QUEUE, "?wait=2s&lease=60s");
                        if (r.status() == 204) {
                            continue;
                        }
                        assertThat(r.status()).as("claim: %s", r).isEqualTo(200);
                        JsonNode c = r.json();
                        String id = c.get("id").asText();
                        String payload = c.get("payload").asText();
                        claims.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                        claimedPayloads.put(id, payload);
                        Response done = http.complete(id, c.get("lease").asText(), reversed(payload));
                        assertThat(done.status()).as("complete: %s", done).isEqualTo(200);
                        completions.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                        completed.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> task : tasks) {
                task.get(170, SECONDS); // rethrows a failed assertion of a client or worker
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("JobLoadTest: %d jobs submitted, claimed and completed in %.1f s (%.0f jobs/s)%n",
                    JOBS, seconds, JOBS / seconds);

            assertThat(payloads).hasSize(JOBS);
            assertThat(completions.keySet()).containsExactlyInAnyOrderElementsOf(payloads.keySet());
            assertThat(completions.entrySet()).allSatisfy(e -> assertThat(e.getValue().get())
                    .as("completions of %s", e.getKey()).isEqualTo(1));
            assertThat(claims.entrySet()).allSatisfy(e -> assertThat(e.getValue().get())
                    .as("claims of %s", e.getKey()).isEqualTo(1));
            assertThat(claimedPayloads).isEqualTo(payloads);

            for (Map.Entry<String, String> e : payloads.entrySet()) {
                JsonNode job = http.job(e.getKey());
                assertThat(job.get("status").asText()).isEqualTo("succeeded");
                assertThat(job.get("attempt").asInt()).isEqualTo(1);
                assertThat(job.get("result").asText()).as("result of %s", e.getKey())
                        .isEqualTo(reversed(e.getValue()));
            }
            JsonNode q = http.queue(QUEUE);
            assertThat(List.of(q.get("depth").asInt(), q.get("running").asInt(), q.get("succeeded").asInt(),
                    q.get("failed").asInt(), q.get("cancelled").asInt()))
                    .as("depth, running, succeeded, failed, cancelled of %s", q)
                    .containsExactly(0, 0, JOBS, 0, 0);
        }
    }
}
