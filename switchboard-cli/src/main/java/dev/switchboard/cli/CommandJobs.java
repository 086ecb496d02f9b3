package dev.switchboard.cli;

import dev.switchboard.client.Job;
import dev.switchboard.client.JobContext;
import dev.switchboard.client.JobFailure;
import dev.switchboard.client.JobHandler;
import dev.switchboard.client.JobResult;
import dev.switchboard.client.SwitchboardException;
import dev.switchboard.client.WorkerListener;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code jobs worker}'s handler for the library's worker: runs the command once per job, its payload on stdin, its
 * stdout the result, {@code progress <percent> [message]} lines of its stderr relayed as progress, the rest of stderr
 * passed through. An interrupt (the lease was lost, or the worker is closing) stops the command: SIGTERM to it and what
 * it started, SIGKILL after a grace. Also the worker's listener, which says what happens on stderr.
 */
final class CommandJobs implements JobHandler, WorkerListener {
    /** What {@code jobs worker} was asked to do. */
    record Settings(List<String> command, String resultType, boolean retryOnFailure, int maxResultBytes) {}

    private static final long KILL_GRACE_SECONDS = 5;
    private static final int MAX_ERROR_LINE = 1000;
    private static final int MAX_PROGRESS_MESSAGE = 1024;
    /** {@code progress <percent> [message]}, the one stderr line the worker reads instead of passing it on. */
    private static final Pattern PROGRESS = Pattern.compile("progress\\s+(\\d{1,3}(?:\\.\\d+)?)%?(?:\\s+(.*))?");

    private final Settings settings;
    private final PrintWriter err;
    private final Map<String, Long> startedNanos = new ConcurrentHashMap<>();
    private final AtomicReference<RuntimeException> fatal = new AtomicReference<>();
    private final Runnable stop;

    /** @param stop closes the worker: called when the command cannot run at all */
    CommandJobs(Settings settings, PrintWriter err, Runnable stop) {
        this.settings = settings;
        this.err = err;
        this.stop = stop;
    }

    /** Why the worker had to stop, or null. */
    RuntimeException fatal() {
        return fatal.get();
    }

    @Override
    public JobResult handle(JobContext job) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(settings.command());
        Map<String, String> env = pb.environment();
        env.put("SWITCHBOARD_JOB_ID", job.id());
        env.put("SWITCHBOARD_JOB_QUEUE", job.queue());
        env.put("SWITCHBOARD_JOB_ATTEMPT", Integer.toString(job.attempt()));
        env.put("SWITCHBOARD_PAYLOAD_TYPE", job.payloadType());
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            // Every job would fail the same way: give this one back and stop rather than fail the whole queue.
            String why = "cannot run " + settings.command().get(0) + ": " + e.getMessage().strip();
            fatal.compareAndSet(null, new IllegalStateException(why, e));
            CompletableFuture.runAsync(stop);
            throw new JobFailure("the worker " + why, true);
        }
        byte[] payload = job.payload();
        Thread stdin = daemon(() -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(payload);
            } catch (IOException ignored) {
                // the command closed its stdin without reading it all: its choice
            }
        });
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        boolean[] tooLarge = {false};
        Thread out = daemon(() -> tooLarge[0] = collect(process, stdout));
        String[] lastErrorLine = {null};
        Thread errors = daemon(() -> lastErrorLine[0] = readStderr(process, job));
        int exit;
        try {
            exit = process.waitFor();
            out.join();
            errors.join();
            stdin.join();
        } catch (InterruptedException e) {
            kill(process);
            int stopped = process.waitFor();
            out.join();
            errors.join();
            if (stopped != 0 || job.leaseLost()) {
                throw e; // the library hands the job back, or drops it when the lease is gone
            }
            exit = 0; // stopped by a signal, it still finished: its result counts
        }
        if (tooLarge[0]) {
            throw new JobFailure("the result is larger than " + settings.maxResultBytes()
                    + " bytes (--max-result-bytes, the server's message limit)", false);
        }
        if (exit != 0) {
            throw new JobFailure("exit status " + exit + (lastErrorLine[0] == null ? "" : ": " + lastErrorLine[0]),
                    settings.retryOnFailure());
        }
        return new JobResult(stdout.toByteArray(), settings.resultType());
    }

    /** Stops the command: SIGTERM to it and what it started, SIGKILL for whatever is left after a grace. */
    private static void kill(Process p) {
        List<ProcessHandle> family = new ArrayList<>(p.descendants().toList());
        family.add(p.toHandle());
        family.forEach(ProcessHandle::destroy);
        CompletableFuture.delayedExecutor(KILL_GRACE_SECONDS, TimeUnit.SECONDS).execute(() ->
                family.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly));
    }

    /** Copies stdout; false once it outgrows the result limit, when the command is stopped. */
    private boolean collect(Process process, ByteArrayOutputStream into) {
        byte[] buf = new byte[65536];
        try (InputStream stdout = process.getInputStream()) {
            for (int n; (n = stdout.read(buf)) >= 0; ) {
                if (into.size() + n > settings.maxResultBytes()) {
                    kill(process);
                    return true;
                }
                into.write(buf, 0, n);
            }
        } catch (IOException ignored) {
            // the pipe closes when the command is killed
        }
        return false;
    }

    /** Relays progress lines, passes the others through; returns the last non-blank one for a failure's message. */
    private String readStderr(Process process, JobContext job) {
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                Matcher m = PROGRESS.matcher(line.strip());
                if (m.matches()) {
                    int percent = (int) Math.min(100, Math.round(Double.parseDouble(m.group(1))));
                    String message = m.group(2) == null || m.group(2).isBlank() ? null : m.group(2).strip();
                    if (message != null && message.length() > MAX_PROGRESS_MESSAGE) {
                        message = message.substring(0, MAX_PROGRESS_MESSAGE);
                    }
                    job.progress(percent, message);
                } else {
                    say(line);
                    if (!line.isBlank()) {
                        last = line.length() > MAX_ERROR_LINE ? line.substring(0, MAX_ERROR_LINE) : line;
                    }
                }
            }
        } catch (IOException ignored) {
            // the pipe closes when the command is killed
        }
        return last;
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    // ---- WorkerListener: what the worker says on stderr

    @Override
    public void started(JobContext job) {
        startedNanos.put(job.id(), System.nanoTime());
        say("job " + job.id() + " started (attempt " + job.attempt() + ")");
    }

    @Override
    public void finished(Job job, String reason) {
        Long started = startedNanos.remove(job.id());
        long millis = started == null ? 0 : (System.nanoTime() - started) / 1_000_000;
        switch (job.status()) {
            case SUCCEEDED -> say("job " + job.id() + " succeeded (" + job.resultBytes() + " bytes, " + millis + " ms)");
            case QUEUED -> say("job " + job.id() + " queued again: " + reason);
            default -> say("job " + job.id() + " " + job.status().wire() + ": " + reason);
        }
    }

    @Override
    public void refused(String id, SwitchboardException error) {
        say("job " + id + ": " + error.getMessage());
    }

    @Override
    public void leaseLost(String id, String reason) {
        startedNanos.remove(id);
        say("job " + id + " lease lost (" + reason + "); the command was stopped");
    }

    @Override
    public void unreachable(URI server, Throwable cause) {
        say("cannot reach " + server + ": " + (cause.getMessage() == null ? cause.toString() : cause.getMessage())
                + "; retrying");
    }

    @Override
    public void reconnected(URI server) {
        say("connected to " + server + " again");
    }

    private void say(String line) {
        err.println(line);
        err.flush();
    }
}
