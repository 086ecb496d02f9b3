package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.Job;
import dev.switchboard.client.JobHandle;
import dev.switchboard.client.JobResult;
import dev.switchboard.client.JobStatus;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.Worker;
import dev.switchboard.client.WorkerOptions;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A worker process killed with SIGKILL in the middle of a job: its lease runs out, the server requeues the job, another
 * worker retries it, and {@code await} on the submitter's handle returns the final result.
 */
@Slow
@Timeout(90)
class WorkerCrashTest {

    /** The worker to kill: {@code URL QUEUE}. Says "running <id>" once its handler has the job, then never finishes. */
    public static void main(String[] args) throws InterruptedException {
        Switchboard client = Switchboard.connect(args[0]);
        client.worker(args[1], WorkerOptions.builder().lease(Duration.ofSeconds(2)).build(), job -> {
            job.progress(10, "started");
            System.out.println("running " + job.id());
            System.out.flush();
            new CountDownLatch(1).await();
            return JobResult.text("never");
        });
        new CountDownLatch(1).await();
    }

    @Test
    void anotherWorkerRetriesTheJobAndAwaitReturnsItsResult() throws Exception {
        try (TestServer server = TestServer.start(); Switchboard client = Switchboard.connect(server.url())) {
            String queue = "crash.work";
            JobHandle handle = client.submit(queue, "payload".getBytes(StandardCharsets.UTF_8), "text/plain", null);
            CompletableFuture<Job> awaited = handle.awaitAsync(Duration.ofSeconds(60));

            Process doomed = new ProcessBuilder(List.of(ServerChild.java(), "-cp", System.getProperty("java.class.path"),
                    WorkerCrashTest.class.getName(), server.url(), queue)).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(doomed.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null && !line.startsWith("running ")) {
                    // JVM warnings before the worker starts
                }
                assertThat(line).isEqualTo("running " + handle.id());
                await().atMost(Duration.ofSeconds(10)).until(() -> handle.status().progressPercent() == 10);
                doomed.destroyForcibly();
                assertThat(doomed.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(handle.status().status()).isEqualTo(JobStatus.RUNNING);

            try (Worker rescuer = client.worker(queue, job -> JobResult.text("done on attempt " + job.attempt()))) {
                Job done = awaited.get(60, TimeUnit.SECONDS);
                assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
                assertThat(done.attempt()).isEqualTo(2);
                assertThat(done.resultText()).isEqualTo("done on attempt 2");
            }
        }
    }
}
