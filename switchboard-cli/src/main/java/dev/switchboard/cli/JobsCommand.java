package dev.switchboard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.Job;
import dev.switchboard.client.JobHandle;
import dev.switchboard.client.JobStatus;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.WorkerOptions;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.Payloads;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
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
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long {@code watch} follows a job: the longest wait the client takes. */
    private static final Duration WATCH_FOR = Duration.ofHours(24);

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
            try (Switchboard switchboard = client.connect(new ConnectionListener() {})) {
                JobHandle handle = switchboard.submit(queue, body, type == null ? "application/octet-stream" : type, key);
                if (wait == null || wait.isZero()) {
                    out.println(handle.id());
                    return 0;
                }
                Job job = handle.await(wait);
                if (!job.finished()) {
                    out.println(handle.id());
                    err.println("job " + handle.id() + " is still " + job.status().wire() + " after "
                            + Durations.format(wait) + "; follow it with: switchboard jobs watch " + handle.id());
                    return 0;
                }
                if (job.status() != JobStatus.SUCCEEDED) {
                    err.println("switchboard: job " + handle.id() + " " + ProgressBar.finalStatus(JobJson.of(job)));
                    return 1;
                }
                printResult(handle, job, out);
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
            try (Switchboard switchboard = client.connect(new ConnectionListener() {})) {
                Job job = switchboard.job(id).status();
                ClientOptions.stdout().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JobJson.of(job)));
                return 0;
            }
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = {
                "Follow a job until it finishes: a progress bar on stderr when on a terminal, one line per change "
                        + "otherwise; then print its result on stdout.",
                "A dropped connection is resumed where it left off, retried with backoff (for up to 24 hours).",
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
            // The client reports on its own threads; this thread prints, in the order things happened.
            BlockingQueue<Object> changes = new LinkedBlockingQueue<>();
            ConnectionListener notices = new ConnectionListener() {
                @Override
                public void disconnected(String topic, URI server, Throwable cause) {
                    changes.add("connection lost; reconnecting");
                }
            };
            try (Switchboard switchboard = client.connect(notices)) {
                JobHandle handle = switchboard.job(id).onChange(changes::add);
                CompletableFuture<Job> finished = handle.awaitAsync(WATCH_FOR);
                finished.whenComplete((job, failure) -> changes.add(finished));
                for (Object change; (change = changes.take()) != finished; ) {
                    if (change instanceof Job job) {
                        bar.update(JobJson.of(job));
                    } else {
                        bar.note((String) change);
                    }
                }
                Job job = finished.join();
                if (job.status() != JobStatus.SUCCEEDED) {
                    return 1;
                }
                printResult(handle, job, ClientOptions.stdout());
                return 0;
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
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
            try (Switchboard switchboard = client.connect(new ConnectionListener() {})) {
                dev.switchboard.client.Worker[] worker = {null};
                CommandJobs jobs = new CommandJobs(new CommandJobs.Settings(command, resultType, retryOnFailure,
                        maxResultBytes), spec.commandLine().getErr(), () -> worker[0].close());
                worker[0] = switchboard.worker(queue, WorkerOptions.builder().concurrency(concurrency).lease(lease)
                        .maxJobs(maxJobs).closeGrace(Duration.ZERO).listener(jobs).build(), jobs);
                Thread onSignal = new Thread(worker[0]::close, "jobs-worker-stop");
                Runtime.getRuntime().addShutdownHook(onSignal);
                try {
                    worker[0].awaitStopped(Duration.ofDays(365 * 100));
                    worker[0].close();
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(onSignal);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is what stopped the worker
                    }
                }
                if (jobs.fatal() != null) {
                    throw jobs.fatal();
                }
                if (worker[0].failure() != null) {
                    throw worker[0].failure();
                }
                return 0;
            }
        }
    }

    /**
     * Writes a succeeded job's result to {@code out}: a JSON result compact on one line, anything else as its bytes.
     * The library fetches a result too big to be inline in the job JSON (over 64 KiB).
     */
    static void printResult(JobHandle handle, Job job, PrintStream out) throws IOException {
        byte[] result = job.result() != null ? job.result() : job.resultBytes() > 0 ? handle.result() : new byte[0];
        if (job.resultType() != null && Payloads.isJsonType(job.resultType())) {
            out.write((JSON.readTree(result).toString() + "\n").getBytes(StandardCharsets.UTF_8));
        } else {
            out.write(result);
        }
        out.flush();
    }
}
