package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.ConflictException;
import dev.switchboard.client.InvalidRequestException;
import dev.switchboard.client.Job;
import dev.switchboard.client.JobContext;
import dev.switchboard.client.JobFailedException;
import dev.switchboard.client.JobFailure;
import dev.switchboard.client.JobHandle;
import dev.switchboard.client.JobResult;
import dev.switchboard.client.JobStatus;
import dev.switchboard.client.JobTimeoutException;
import dev.switchboard.client.SwitchboardException;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.Worker;
import dev.switchboard.client.WorkerListener;
import dev.switchboard.client.WorkerOptions;
import dev.switchboard.testing.TestServer;
import dev.switchboard.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The client's jobs: handles, request/reply and workers, against a real server on loopback; a queue per test. */
@Timeout(60)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // a subclass chooses the server (newServer)
class ClientJobsTest {
    private static TestServer server;
    private static Switchboard client;
    private String queue;

    @BeforeAll
    void start() {
        server = newServer();
        client = Switchboard.connect(server.url());
    }

    @AfterAll
    void stop() {
        client.close();
        server.close();
    }

    /** The server these tests run against: on the embedded engine here, on Redis in {@link RedisClientJobsTest}. */
    TestServer newServer() {
        return TestServer.start();
    }

    @BeforeEach
    void queueOfTest(TestInfo test) {
        queue = "q-" + test.getTestMethod().orElseThrow().getName();
    }

    @Test
    void submitAwaitAndResultBlockingAndAsync() throws Exception {
        JobHandle blocking = client.submit(queue, bytes("one"), "text/plain", null);
        JobHandle async = client.submitAsync(queue, bytes("two"), "text/plain", null).get(10, TimeUnit.SECONDS);
        assertThat(blocking.status().status()).isEqualTo(JobStatus.QUEUED);
        assertThat(async.statusAsync().get(10, TimeUnit.SECONDS).status()).isEqualTo(JobStatus.QUEUED);

        List<Job> changes = new CopyOnWriteArrayList<>();
        blocking.onChange(changes::add);
        CountDownLatch reported = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        try (Worker worker = client.worker(queue, job -> {
            if (job.payloadText().equals("one")) {
                job.progress(40, "halfway");
                reported.countDown();
                proceed.await();
            }
            return JobResult.text("done: " + job.payloadText());
        })) {
            CompletableFuture<Job> awaited = blocking.awaitAsync(Duration.ofSeconds(30));
            assertThat(reported.await(20, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(20)).until(() -> changes.stream().anyMatch(j -> j.progressPercent() == 40));
            proceed.countDown();

            Job first = awaited.get(30, TimeUnit.SECONDS);
            assertThat(first.status()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(first.resultText()).isEqualTo("done: one");
            assertThat(changes).extracting(Job::progressMessage).contains("halfway");
            assertThat(changes.get(changes.size() - 1).status()).isEqualTo(JobStatus.SUCCEEDED);

            assertThat(async.await(Duration.ofSeconds(30)).resultText()).isEqualTo("done: two");
            assertThat(blocking.result()).isEqualTo(bytes("done: one"));
            assertThat(async.resultAsync().get(10, TimeUnit.SECONDS)).isEqualTo(bytes("done: two"));
            assertThat(worker.handled()).isEqualTo(2);
        }
    }

    @Test
    void callReturnsTheWholeResultBlockingAndAsync() throws Exception {
        byte[] big = new byte[200 * 1024]; // over the 64 KiB a job JSON carries inline
        Arrays.fill(big, (byte) 'x');
        try (Worker worker = client.worker(queue, WorkerOptions.builder().concurrency(2).build(), job ->
                job.payloadText().equals("big") ? new JobResult(big, "application/octet-stream")
                        : JobResult.json("{\"echo\": \"" + job.payloadText() + "\"}"))) {
            Job small = client.call(queue, bytes("hi"), "text/plain", Duration.ofSeconds(30));
            assertThat(small.resultText()).isEqualTo("{\"echo\": \"hi\"}");
            assertThat(small.resultType()).isEqualTo("application/json");

            Job large = client.callAsync(queue, bytes("big"), "text/plain", Duration.ofSeconds(30)).get(30, TimeUnit.SECONDS);
            assertThat(large.result()).isEqualTo(big);
        }
    }

    @Test
    void callOfAFailingJobThrowsJobFailedAndAnUnansweredOneJobTimeout() {
        assertThatThrownBy(() -> client.call(queue, bytes("x"), "text/plain", Duration.ofMillis(300)))
                .isInstanceOf(JobTimeoutException.class)
                .satisfies(e -> assertThat(((JobTimeoutException) e).job().status()).isEqualTo(JobStatus.QUEUED));
        try (Worker worker = client.worker(queue, job -> {
            throw new JobFailure("no disk", false);
        })) {
            // The first job, left queued by the timed out call, fails too.
            assertThatThrownBy(() -> client.call(queue, bytes("y"), "text/plain", Duration.ofSeconds(30)))
                    .isInstanceOf(JobFailedException.class)
                    .satisfies(e -> assertThat(((JobFailedException) e).job().error()).isEqualTo("no disk"))
                    .satisfies(e -> assertThat(((JobFailedException) e).job().status()).isEqualTo(JobStatus.FAILED));
        }
    }

    @Test
    void aHandlerExceptionRequeuesTheJobForAnotherAttempt() {
        try (Worker worker = client.worker(queue, job -> {
            if (job.attempt() == 1) {
                throw new IllegalStateException("flaky");
            }
            return JobResult.text("attempt " + job.attempt());
        })) {
            Job job = client.call(queue, bytes("x"), "text/plain", Duration.ofSeconds(30));
            assertThat(job.resultText()).isEqualTo("attempt 2");
            assertThat(job.attempt()).isEqualTo(2);
        }
    }

    @Test
    void cancelAndTheConflictsOfAFinishedJob() throws Exception {
        JobHandle handle = client.submit(queue, bytes("x"), "text/plain", null);
        assertThat(handle.cancel().status()).isEqualTo(JobStatus.CANCELLED);
        assertThatThrownBy(handle::cancel).isInstanceOf(ConflictException.class)
                .satisfies(e -> assertThat(((SwitchboardException) e).code()).isEqualTo(ErrorCode.JOB_FINISHED));
        assertThatThrownBy(handle::result).isInstanceOf(ConflictException.class)
                .satisfies(e -> assertThat(((SwitchboardException) e).code()).isEqualTo(ErrorCode.JOB_NOT_SUCCEEDED));
        assertThat(client.submit(queue, bytes("y"), "text/plain", null).cancelAsync().get(10, TimeUnit.SECONDS).status())
                .isEqualTo(JobStatus.CANCELLED);
    }

    @Test
    void anIdempotencyKeyReturnsTheSameJob() {
        JobHandle first = client.submit(queue, bytes("x"), "text/plain", "order-7");
        JobHandle again = client.submit(queue, bytes("x"), "text/plain", "order-7");
        assertThat(again.id()).isEqualTo(first.id());
    }

    @Test
    void concurrencyRunsJobsAtTheSameTime() throws Exception {
        CountDownLatch allRunning = new CountDownLatch(3);
        try (Worker worker = client.worker(queue, WorkerOptions.builder().concurrency(3).build(), job -> {
            allRunning.countDown();
            // Only returns once three handlers run at once: with fewer threads the jobs would never finish.
            if (!allRunning.await(20, TimeUnit.SECONDS)) {
                throw new JobFailure("not concurrent", false);
            }
            return JobResult.text("ok");
        })) {
            List<JobHandle> handles = List.of(client.submit(queue, bytes("1"), "text/plain", null),
                    client.submit(queue, bytes("2"), "text/plain", null), client.submit(queue, bytes("3"), "text/plain", null));
            for (JobHandle h : handles) {
                assertThat(h.await(Duration.ofSeconds(30)).status()).isEqualTo(JobStatus.SUCCEEDED);
            }
        }
    }

    @Test
    void closeHandsARunningJobBackAndAnotherWorkerFinishesIt() {
        CountDownLatch started = new CountDownLatch(1);
        List<String> reasons = new CopyOnWriteArrayList<>();
        Worker first = client.worker(queue, WorkerOptions.builder().closeGrace(Duration.ZERO).listener(new WorkerListener() {
            @Override
            public void finished(Job job, String reason) {
                reasons.add(job.status().wire() + ": " + reason);
            }
        }).build(), job -> {
            started.countDown();
            new CountDownLatch(1).await(); // until interrupted by close
            return JobResult.text("never");
        });
        JobHandle handle = client.submit(queue, bytes("x"), "text/plain", null);
        await().atMost(Duration.ofSeconds(20)).until(() -> started.getCount() == 0);

        first.close();

        assertThat(reasons).containsExactly("queued: the worker closed before the job finished");
        Job requeued = handle.status();
        assertThat(requeued.status()).isEqualTo(JobStatus.QUEUED);
        assertThat(requeued.attempt()).isEqualTo(2);
        try (Worker second = client.worker(queue, job -> JobResult.text("second"))) {
            assertThat(handle.await(Duration.ofSeconds(30)).resultText()).isEqualTo("second");
        }
    }

    @Test
    void aLostLeaseInterruptsTheHandlerAndDropsItsOutcome() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger interrupted = new AtomicInteger();
        List<String> lost = new CopyOnWriteArrayList<>();
        JobContext[] context = new JobContext[1];
        try (Worker worker = client.worker(queue, WorkerOptions.builder().lease(Duration.ofSeconds(3))
                .listener(new WorkerListener() {
                    @Override
                    public void leaseLost(String id, String reason) {
                        lost.add(id);
                    }
                }).build(), job -> {
            context[0] = job;
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
            }
            return JobResult.text("too late");
        })) {
            JobHandle handle = client.submit(queue, bytes("x"), "text/plain", null);
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
            handle.cancel();
            // The next heartbeat (every second) is refused: the handler is interrupted.
            await().atMost(Duration.ofSeconds(20)).until(() -> interrupted.get() == 1);
            assertThat(lost).containsExactly(handle.id());
            assertThat(context[0].leaseLost()).isTrue();
            assertThat(handle.status().status()).isEqualTo(JobStatus.CANCELLED);
        }
    }

    @Test
    void badArgumentsFailFast() {
        assertThatThrownBy(() -> client.submit("bad queue", bytes("x"), "text/plain", null))
                .isInstanceOf(InvalidRequestException.class).hasMessageStartingWith("invalid_topic: a queue name");
        assertThatThrownBy(() -> client.call(queue, bytes("x"), "text/plain", Duration.ZERO))
                .isInstanceOf(InvalidRequestException.class).hasMessageStartingWith("invalid_duration: ");
        assertThatThrownBy(() -> WorkerOptions.builder().lease(Duration.ofMillis(500)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
        assertThatThrownBy(() -> WorkerOptions.builder().concurrency(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client.worker(queue, null)).isInstanceOf(NullPointerException.class);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
