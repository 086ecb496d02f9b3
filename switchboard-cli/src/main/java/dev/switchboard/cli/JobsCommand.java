package dev.switchboard.cli;

import dev.switchboard.wire.Payloads;
import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.wire.Durations;
import dev.switchboard.cli.JobsClient.Answer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code switchboard jobs …}: submit jobs, follow them, and run a command as a worker. */
@Command(name = "jobs",
        mixinStandardHelpOptions = true,
        description = "Asynchronous jobs: submit, follow, and process them with any command.",
        subcommands = {JobsCommand.Submit.class, JobsCommand.Status.class, JobsCommand.Watch.class,
                JobsCommand.Worker.class})
public final class JobsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: submit, status, watch or worker");
    }

    @Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Submit a job to QUEUE and print its id.",
                "With --wait, print its result instead if it finishes in time (exit 1 if it failed or was cancelled); "
                        + "if not, print its id and say so on stderr (exit 0)."})
    static final class Submit implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "QUEUE", description = "Queue name, e.g. thumbnails.")
        String queue;

        @Parameters(index = "1", arity = "0..1", paramLabel = "PAYLOAD",
                description = "The job's payload; '-' or none reads it from stdin.")
        String payload;

        @Option(names = "--wait", converter = DurationConverter.class,
                description = "Wait this long for the job to finish, e.g. 30s (at most the server's --max-wait).")
        Duration wait;

        @Option(names = "--type", description = "Content type of the payload. Default: application/octet-stream")
        String type;

        @Option(names = "--key", description = "Idempotency key: submitting again with it returns the first job.")
        String key;

        @Override
        public Integer call() throws Exception {
            PrintStream out = ClientOptions.stdout();
            PrintWriter err = spec.commandLine().getErr();
            byte[] body = ClientOptions.argumentOrStdin(payload);
            boolean waiting = wait != null && !wait.isZero();
            try (JobsClient c = new JobsClient(client)) {
                HttpRequest.Builder req = c.request("/v1/queues/" + Urls.pathSegment(queue) + "/jobs"
                        + (waiting ? "?wait=" + Durations.format(wait) : ""))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
                if (waiting) {
                    req.timeout(JobsClient.withMargin(wait));
                }
                if (type != null) {
                    req.header("Content-Type", type);
                }
                if (key != null) {
                    req.header("Idempotency-Key", key);
                }
                Answer a = JobsClient.expect(c.send(req.build()), 200, 202);
                JsonNode job = a.json();
                if (a.status() == 202) {
                    out.println(job.path("id").asText());
                    if (waiting) {
                        err.println("job " + job.path("id").asText() + " is still " + job.path("status").asText()
                                + " after " + Durations.format(wait) + "; follow it with: switchboard jobs watch "
                                + job.path("id").asText());
                    }
                    return 0;
                }
                if (!job.path("status").asText().equals("succeeded")) {
                    err.println("switchboard: job " + job.path("id").asText() + " " + ProgressBar.finalStatus(job));
                    return 1;
                }
                printResult(c, job, out);
                return 0;
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Print a job as JSON: status, attempt, progress, and its result or error once finished.")
    static final class Status implements Callable<Integer> {
        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "ID", description = "The job's id, as submit printed it.")
        String id;

        @Override
        public Integer call() throws Exception {
            try (JobsClient c = new JobsClient(client)) {
                JsonNode job = c.job(id);
                ClientOptions.stdout().println(Http.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(job));
                return 0;
            }
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = {
                "Follow a job until it finishes: a progress bar on stderr when on a terminal, one line per change "
                        + "otherwise; then print its result on stdout.",
                "A dropped connection is resumed where it left off (retried for up to a minute).",
                "Exit 0 if the job succeeded, 1 if it failed or was cancelled."})
    static final class Watch implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "ID", description = "The job's id, as submit printed it.")
        String id;

        @Override
        public Integer call() throws Exception {
            ProgressBar bar = ProgressBar.forTerminal(spec.commandLine().getErr());
            try (JobsClient c = new JobsClient(client)) {
                JsonNode job = c.follow(id, new JobsClient.JobListener() {
                    @Override
                    public void onChange(JsonNode j) {
                        bar.update(j);
                    }

                    @Override
                    public void onNotice(String text) {
                        bar.note(text);
                    }
                });
                if (!job.path("status").asText().equals("succeeded")) {
                    return 1;
                }
                printResult(c, job, ClientOptions.stdout());
                return 0;
            }
        }
    }

    @Command(name = "worker", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Process jobs of QUEUE by running COMMAND once per job.",
                "COMMAND runs directly, not through a shell (unless it is one, e.g. sh -c '...'):",
                "  - the payload is written to its stdin (JSON and text as sent, binary as bytes);",
                "  - its stdout is the result; exit 0 completes the job, any other status fails it with "
                        + "\"exit status N: <last stderr line>\";",
                "  - a stderr line 'progress <percent> [message]' reports progress; other lines pass through to stderr;",
                "  - it sees SWITCHBOARD_JOB_ID, SWITCHBOARD_JOB_QUEUE, SWITCHBOARD_JOB_ATTEMPT, SWITCHBOARD_PAYLOAD_TYPE.",
                "The lease is renewed every third of --lease while the command runs; if it is lost (the server gave "
                        + "the job to another worker), the command is stopped and its outcome dropped.",
                "Connection failures are retried with backoff, so workers ride out a server restart.",
                "On SIGINT or SIGTERM the worker stops claiming, sends SIGTERM to the running commands (SIGKILL 5s "
                        + "later) and hands their jobs back to the queue (fail with retry; this counts as an attempt); "
                        + "a command that still exits 0 completes its job.",
                "Example: switchboard jobs worker thumbnails --concurrency 4 -- ./make-thumbnail.sh"})
    static final class Worker implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "QUEUE", description = "Queue to take jobs from.")
        String queue;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND",
                description = "Command and its arguments; put '--' before it if any argument starts with '-'.")
        List<String> command;

        @Option(names = "--lease", defaultValue = "60s", converter = DurationConverter.class,
                description = "Lease of each claim (1s-24h): without a heartbeat for this long the job is requeued. "
                        + "Default: ${DEFAULT-VALUE}")
        Duration lease;

        @Option(names = "--concurrency", defaultValue = "1", description = "Jobs run at a time. Default: ${DEFAULT-VALUE}")
        int concurrency;

        @Option(names = "--max-jobs", defaultValue = "0",
                description = "Exit after this many jobs (0 = keep going). Default: ${DEFAULT-VALUE}")
        int maxJobs;

        @Option(names = "--result-type", defaultValue = "application/octet-stream",
                description = "Content type of the results. Default: ${DEFAULT-VALUE}")
        String resultType;

        @Option(names = "--retry-on-failure",
                description = "A non-zero exit requeues the job (up to the queue's max attempts) instead of failing it.")
        boolean retryOnFailure;

        @Option(names = "--max-result-bytes", defaultValue = "1048576",
                description = "Largest result; more stdout fails the job. Set to the server's --max-message-bytes. "
                        + "Default: ${DEFAULT-VALUE}")
        int maxResultBytes;

        @Override
        public Integer call() throws Exception {
            if (lease.compareTo(Duration.ofSeconds(1)) < 0 || lease.compareTo(Duration.ofHours(24)) > 0) {
                throw client.usage("--lease must be between 1s and 24h");
            }
            if (concurrency < 1 || maxJobs < 0 || maxResultBytes < 0) {
                throw client.usage("--concurrency must be >= 1, --max-jobs and --max-result-bytes >= 0");
            }
            WorkerLoop.Settings settings = new WorkerLoop.Settings(queue, command, lease, concurrency, maxJobs,
                    resultType, retryOnFailure, maxResultBytes);
            try (JobsClient c = new JobsClient(client)) {
                WorkerLoop loop = new WorkerLoop(c, settings, spec.commandLine().getErr());
                Thread onSignal = new Thread(() -> {
                    loop.stop();
                    try {
                        loop.awaitFinished(Duration.ofSeconds(30));
                    } catch (InterruptedException ignored) {
                        // the JVM is exiting anyway
                    }
                }, "jobs-worker-stop");
                Runtime.getRuntime().addShutdownHook(onSignal);
                try {
                    return loop.run();
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(onSignal);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is what stopped the loop
                    }
                }
            }
        }
    }

    /**
     * Writes a succeeded job's result to {@code out}: a JSON result compact on one line, text as it is, binary as its
     * bytes; a result too big to be inline in the job JSON (over 64 KiB) is fetched from {@code /result}.
     */
    static void printResult(JobsClient c, JsonNode job, PrintStream out) throws IOException, InterruptedException {
        JsonNode result = job.get("result");
        if (result == null) {
            if (job.path("resultBytes").asLong() > 0) {
                c.copyResult(job.path("id").asText(), out);
            }
            return;
        }
        if ("base64".equals(job.path("resultEncoding").asText(null))) {
            out.write(Base64.getDecoder().decode(result.asText()));
        } else if (Payloads.isJsonType(job.path("resultType").asText(""))) {
            out.write((result.toString() + "\n").getBytes(StandardCharsets.UTF_8));
        } else {
            out.write(result.asText().getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
    }
}
