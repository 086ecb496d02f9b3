package dev.switchboard.cli;

import dev.switchboard.dist.Main;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code switchboard jobs …} end to end: a real server in-process, the commands through {@link Main#run}, workers
 * running real shell scripts. Each command's stdout and stderr are captured per thread (a worker's helper threads
 * included), so a worker in the background and a command in the foreground never mix their output. One server for
 * the class; each test has its own queue.
 */
@Timeout(value = 90, unit = SECONDS)
class JobsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final InheritableThreadLocal<Run> CURRENT = new InheritableThreadLocal<>();
    private static final ExecutorService BACKGROUND =
            Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().factory());
    private static final int BIG = 512 * 1024;

    private static TestServer server;
    private static PrintStream originalOut;
    private static PrintStream originalErr;
    private static InputStream originalIn;

    @TempDir
    static Path scripts;

    private String queue;

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.start();
        originalOut = System.out;
        originalErr = System.err;
        originalIn = System.in;
        System.setOut(new PrintStream(routed(r -> r.out, originalOut), true));
        System.setErr(new PrintStream(routed(r -> r.err, originalErr), true));
        script("work.sh", """
                input=$(cat)
                echo "progress 40 encoding audio" >&2
                echo "a line for the log" >&2
                printf 'done: %s' "$input"
                """);
        script("fail.sh", """
                cat > /dev/null
                echo "disk full" >&2
                exit 3
                """);
        script("big.sh", "cat > /dev/null\nyes 0123456789abcdef | head -c " + BIG + "\n");
        script("echo.sh", "exec cat\n");
        script("hang.sh", """
                cat > /dev/null
                echo "started" >&2
                sleep 60
                """);
        // Finishes only once both jobs run at the same time: proves --concurrency 2.
        script("pair.sh", """
                cat > /dev/null
                touch "$(dirname "$0")/pair-$SWITCHBOARD_JOB_ID"
                i=0
                while [ "$(ls "$(dirname "$0")" | grep -c '^pair-')" -lt 2 ]; do
                  i=$((i + 1)); [ $i -gt 400 ] && exit 1
                  sleep 0.05
                done
                printf '%s' "$SWITCHBOARD_JOB_ID"
                """);
    }

    @AfterAll
    static void stop() {
        System.setOut(originalOut);
        System.setErr(originalErr);
        System.setIn(originalIn);
        server.close();
    }

    @BeforeEach
    void queueOfTest(TestInfo test) {
        queue = "cli-" + test.getTestMethod().orElseThrow().getName();
    }

    @Test
    void submitPrintsTheIdAndStatusPrintsTheJob() throws IOException {
        Run submit = run("jobs", "submit", queue, "{\"n\":1}", "--type", "application/json", "--server", server.url());
        assertThat(submit.exit()).isZero();
        String id = submit.out().strip();
        assertThat(submit.out()).isEqualTo(id + "\n").doesNotContain("{");

        Run status = run("jobs", "status", id, "--server", server.url());
        assertThat(status.exit()).isZero();
        JsonNode job = JSON.readTree(status.out());
        assertThat(job.path("id").asText()).isEqualTo(id);
        assertThat(job.path("queue").asText()).isEqualTo(queue);
        assertThat(job.path("status").asText()).isEqualTo("queued");
    }

    @Test
    void errorsAndBadUsageHaveTheirExitCodes() {
        Run missing = run("jobs", "status", "nosuchjob", "--server", server.url());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).startsWith("switchboard: job_not_found: ");

        Run unreachable = run("jobs", "status", "x", "--server", "http://127.0.0.1:1");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.err()).startsWith("switchboard: cannot reach http://127.0.0.1:1");

        assertThat(run("jobs", "submit", queue, "x", "--wait", "soon", "--server", server.url()).exit()).isEqualTo(2);
        assertThat(run("jobs", "worker", queue, "--server", server.url()).exit()).isEqualTo(2);
        assertThat(run("jobs", "worker", queue, "--lease", "0s", "--server", server.url(), "--", "true").exit())
                .isEqualTo(2);
    }

    @Test
    void workerRunsTheCommandAndReportsProgressAndResult() throws Exception {
        Run worker = startWorker("work.sh");
        String id = run("jobs", "submit", queue, "hello", "--server", server.url()).out().strip();
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();

        JsonNode job = JSON.readTree(run("jobs", "status", id, "--server", server.url()).out());
        assertThat(job.path("status").asText()).isEqualTo("succeeded");
        assertThat(job.path("result").asText()).isEqualTo("done: hello");
        assertThat(server.get("/v1/jobs/" + id + "/result").body()).isEqualTo("done: hello");

        List<JsonNode> progress = events(id).stream()
                .filter(e -> e.path("progress").path("percent").asInt(-1) == 40).toList();
        assertThat(progress).isNotEmpty();
        assertThat(progress.get(0).path("progress").path("message").asText()).isEqualTo("encoding audio");

        assertThat(worker.err()).contains("a line for the log\n").doesNotContain("progress 40");
    }

    @Test
    void submitWaitPrintsTheResult() throws Exception {
        Run worker = startWorker("work.sh");
        Run submit = run("jobs", "submit", queue, "hi", "--wait", "30s", "--server", server.url());
        assertThat(submit.exit()).isZero();
        assertThat(submit.out()).isEqualTo("done: hi");
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
    }

    @Test
    void submitWaitThatTimesOutPrintsTheId() {
        Run submit = run("jobs", "submit", queue, "hi", "--wait", "200ms", "--server", server.url());
        assertThat(submit.exit()).isZero();
        assertThat(submit.out()).matches("[a-z0-9]+\n");
        assertThat(submit.err()).contains("still queued after 200ms");
    }

    @Test
    void nonZeroExitFailsTheJobWithTheExitStatus() throws Exception {
        Run worker = startWorker("fail.sh");
        Run submit = run("jobs", "submit", queue, "x", "--wait", "30s", "--server", server.url());
        assertThat(submit.exit()).isEqualTo(1);
        assertThat(submit.out()).isEmpty();
        assertThat(submit.err()).matches("switchboard: job [a-z0-9]+ failed: exit status 3: disk full\n");
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();

        String id = submit.err().split(" ")[2];
        JsonNode job = JSON.readTree(server.get("/v1/jobs/" + id).body());
        assertThat(job.path("status").asText()).isEqualTo("failed");
        assertThat(job.path("error").asText()).isEqualTo("exit status 3: disk full");
    }

    @Test
    void largeResultArrivesWhole() throws Exception {
        Run worker = startWorker("big.sh");
        Run submit = run("jobs", "submit", queue, "x", "--wait", "30s", "--server", server.url());
        assertThat(submit.exit()).isZero();
        byte[] expected = "0123456789abcdef\n".repeat(BIG / 17 + 1).substring(0, BIG).getBytes(StandardCharsets.US_ASCII);
        assertThat(submit.out.toByteArray()).isEqualTo(expected);
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
    }

    @Test
    void resultOverTheLimitFailsTheJob() throws Exception {
        Run worker = startWorker("big.sh", "--max-result-bytes", "1000");
        Run submit = run("jobs", "submit", queue, "x", "--wait", "30s", "--server", server.url());
        assertThat(submit.exit()).isEqualTo(1);
        assertThat(submit.err()).contains("failed: the result is larger than 1000 bytes");
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
    }

    @Test
    void payloadReachesTheCommandByteForByte() throws Exception {
        Run worker = startWorker("echo.sh", "--max-jobs", "2");
        String json = "{ \"a\" : [1, 2.50, 1e3],\n  \"b\": \"\\u00e9\" }";
        String id = run("jobs", "submit", queue, json, "--type", "application/json", "--server", server.url())
                .out().strip();
        byte[] binary = {(byte) 0xff, 0, (byte) 0x80, '\n', (byte) 0xfe};
        Run submit = runWithStdin(binary, "jobs", "submit", queue, "-", "--wait", "30s", "--server", server.url());
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();

        assertThat(server.get("/v1/jobs/" + id + "/result").body()).isEqualTo(json);
        assertThat(submit.exit()).as(submit::err).isZero();
        assertThat(submit.out.toByteArray()).isEqualTo(binary);
    }

    @Test
    void watchFollowsTheJobToItsResult() throws Exception {
        String id = run("jobs", "submit", queue, "w", "--server", server.url()).out().strip();
        Run watch = startRun("jobs", "watch", id, "--server", server.url());
        await().atMost(20, SECONDS).until(() -> watch.err().contains("queued"));
        Run worker = startWorker("work.sh");

        assertThat(watch.exit.get(30, SECONDS)).as(watch::err).isZero();
        assertThat(watch.out()).isEqualTo("done: w");
        assertThat(watch.err()).contains("running 40% encoding audio\n").endsWith("succeeded\n");
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
    }

    @Test
    void watchPrintsAJsonResultThatHasLineBreaks() throws Exception {
        Run worker = startWorker("echo.sh", "--result-type", "application/json");
        String id = run("jobs", "submit", queue, "{\n  \"a\": [1, 2]\n}\n", "--type", "application/json",
                "--server", server.url()).out().strip();
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
        Run watch = run("jobs", "watch", id, "--server", server.url());
        assertThat(watch.exit()).as(watch::err).isZero();
        assertThat(watch.out()).isEqualTo("{\"a\":[1,2]}\n");
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlace() throws IOException {
        StringWriter screen = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(screen), true, 80);
        bar.update(JSON.readTree("{\"status\":\"running\",\"attempt\":1,"
                + "\"progress\":{\"percent\":40,\"message\":\"encoding audio\"}}"));
        bar.update(JSON.readTree("{\"status\":\"succeeded\",\"attempt\":1,"
                + "\"progress\":{\"percent\":100,\"message\":\"done\"}}"));
        assertThat(screen.toString()).isEqualTo(
                "\r[############..................]  40% encoding audio"
                + "\r[##############################] 100% succeeded     \n"
                + "succeeded\n");
    }

    @Test
    void watchOfAFailedJobExitsOne() throws Exception {
        Run worker = startWorker("fail.sh");
        String id = run("jobs", "submit", queue, "x", "--server", server.url()).out().strip();
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
        Run watch = run("jobs", "watch", id, "--server", server.url());
        assertThat(watch.exit()).isEqualTo(1);
        assertThat(watch.err()).isEqualTo("failed: exit status 3: disk full\n");
    }

    @Test
    void workerRidesOutAServerRestart() throws Exception {
        Run worker = startWorker("work.sh", "--max-jobs", "2");
        assertThat(run("jobs", "submit", queue, "before", "--wait", "30s", "--server", server.url()).out())
                .isEqualTo("done: before");

        server.restart();
        await().atMost(20, SECONDS).until(() -> worker.err().contains("cannot reach " + server.url()));
        Run submit = run("jobs", "submit", queue, "after", "--wait", "30s", "--server", server.url());
        assertThat(submit.out()).isEqualTo("done: after");
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
        assertThat(worker.err()).contains("connected to " + server.url() + " again");
    }

    @Test
    void watchResumesAfterTheStreamDrops() throws Exception {
        String id = run("jobs", "submit", queue, "d", "--server", server.url()).out().strip();
        Run watch = startRun("jobs", "watch", id, "--server", server.url());
        await().atMost(20, SECONDS).until(() -> watch.err().contains("queued"));

        server.restart();
        await().atMost(30, SECONDS).until(() -> watch.err().contains("reconnecting"));
        Run worker = startWorker("work.sh");
        assertThat(watch.exit.get(60, SECONDS)).as(watch::err).isZero();
        assertThat(watch.out()).isEqualTo("done: d");
        assertThat(watch.err()).containsOnlyOnce("queued\n").endsWith("succeeded\n");
        assertThat(worker.exit.get(30, SECONDS)).as(worker::err).isZero();
    }

    @Test
    void concurrencyRunsJobsAtTheSameTime() throws Exception {
        Run worker = startWorker("pair.sh", "--concurrency", "2", "--max-jobs", "2");
        String first = run("jobs", "submit", queue, "1", "--server", server.url()).out().strip();
        String second = run("jobs", "submit", queue, "2", "--server", server.url()).out().strip();
        assertThat(worker.exit.get(60, SECONDS)).as(worker::err).isZero();
        for (String id : List.of(first, second)) {
            JsonNode job = JSON.readTree(server.get("/v1/jobs/" + id).body());
            assertThat(job.path("status").asText()).isEqualTo("succeeded");
            assertThat(job.path("result").asText()).isEqualTo(id);
        }
    }

    @Test
    void lostLeaseStopsTheCommand() throws Exception {
        Run worker = startWorker("hang.sh", "--lease", "3s");
        String id = run("jobs", "submit", queue, "x", "--server", server.url()).out().strip();
        await().atMost(20, SECONDS).until(() -> worker.err().contains("started\n"));

        server.send(HttpRequest.newBuilder(server.uri("/v1/jobs/" + id)).DELETE().build());
        assertThat(worker.exit.get(20, SECONDS)).as(worker::err).isZero();
        assertThat(worker.err()).contains("job " + id + " lease lost");
        assertThat(JSON.readTree(server.get("/v1/jobs/" + id).body()).path("status").asText()).isEqualTo("cancelled");
    }

    /** Every event of the job from its first, over SSE (the stream ends after the terminal state). */
    private static List<JsonNode> events(String id) throws IOException {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/jobs/" + id + "/events"))
                .header("Last-Event-ID", "0").build());
        List<JsonNode> events = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: ")) {
                events.add(JSON.readTree(line.substring(6)));
            }
        }
        return events;
    }

    private Run startWorker(String script, String... options) {
        List<String> args = new ArrayList<>(List.of("jobs", "worker", queue, "--server", server.url()));
        args.addAll(List.of(options));
        if (!args.contains("--max-jobs")) {
            args.addAll(List.of("--max-jobs", "1"));
        }
        args.add("--");
        args.add(scripts.resolve(script).toString());
        return startRun(args.toArray(String[]::new));
    }

    private static void script(String name, String body) throws IOException {
        Path p = scripts.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    }

    /** One command's run: its exit code and what it wrote. */
    static final class Run {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        CompletableFuture<Integer> exit;

        int exit() {
            return exit.join();
        }

        String out() {
            return out.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return err.toString(StandardCharsets.UTF_8);
        }

        private int call(String... args) {
            CURRENT.set(this);
            try {
                return Main.run(args);
            } finally {
                CURRENT.remove();
            }
        }
    }

    private static Run run(String... args) {
        Run r = new Run();
        r.exit = CompletableFuture.completedFuture(r.call(args));
        return r;
    }

    private static Run runWithStdin(byte[] stdin, String... args) {
        System.setIn(new ByteArrayInputStream(stdin));
        try {
            return run(args);
        } finally {
            System.setIn(originalIn);
        }
    }

    private static Run startRun(String... args) {
        Run r = new Run();
        r.exit = CompletableFuture.supplyAsync(() -> r.call(args), BACKGROUND);
        return r;
    }

    /** System.out or System.err, sent to the buffer of the run the writing thread belongs to. */
    private static OutputStream routed(Function<Run, OutputStream> pick, PrintStream fallback) {
        return new OutputStream() {
            private OutputStream target() {
                Run r = CURRENT.get();
                return r == null ? fallback : pick.apply(r);
            }

            @Override
            public void write(int b) throws IOException {
                target().write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                target().write(b, off, len);
            }
        };
    }
}
