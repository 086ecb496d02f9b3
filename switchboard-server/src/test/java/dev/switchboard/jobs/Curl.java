package dev.switchboard.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code curl} process, for the held requests of long polling and the streams of SSE: its output is read line
 * by line as it arrives, and its exit (by itself, when the server ends the response) is observable. Close it to kill
 * it.
 */
final class Curl implements AutoCloseable {
    private final Process process;
    private final Thread reader;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final long startNanos = System.nanoTime();
    private volatile long exitNanos;

    private Curl(List<String> command) {
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process was killed
            }
            exitNanos = System.nanoTime();
        });
    }

    /** {@code curl -sS -N --max-time 30 [-H header]... url}: a stream (SSE) whose lines are read as they come. */
    static Curl stream(String url, String... headers) {
        List<String> command = new ArrayList<>(
                List.of("curl", "-sS", "-N", "--max-time", "30", "-H", "Accept: text/event-stream"));
        for (String h : headers) {
            command.add("-H");
            command.add(h);
        }
        command.add(url);
        return new Curl(command);
    }

    /**
     * A held request ({@code curl -sS --max-time 30 -w '\n%{http_code}'}): the body, then a last line with the status.
     */
    static Curl request(String method, String url) {
        return new Curl(List.of("curl", "-sS", "--max-time", "30", "-X", method, "-w", "\n%{http_code}", url));
    }

    boolean isAlive() {
        return process.isAlive() || reader.isAlive();
    }

    List<String> lines() {
        return lines;
    }

    /** Waits for curl to exit by itself and for all its output; returns its exit code. */
    int awaitExit(Duration within) {
        try {
            assertThat(process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS))
                    .as("curl exited within %s; output so far: %s", within, lines).isTrue();
            reader.join(within);
            assertThat(reader.isAlive()).as("curl output read").isFalse();
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** From the start of the process until its output ended. */
    Duration elapsed() {
        return Duration.ofNanos(exitNanos - startNanos);
    }

    /** When the output ended, on the {@link System#nanoTime()} clock. */
    long exitNanos() {
        return exitNanos;
    }

    /** For {@link #request}: the status and the body once curl exited. */
    JobHttp.Response awaitResponse(Duration within) {
        assertThat(awaitExit(within)).as("curl exit code; output %s", lines).isZero();
        List<String> all = new ArrayList<>(lines);
        int status = Integer.parseInt(all.removeLast().trim());
        return new JobHttp.Response(status, java.net.http.HttpHeaders.of(java.util.Map.of(), (a, b) -> true),
                String.join("\n", all).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
