package dev.switchboard.stream;

import dev.switchboard.testing.SseParser.Event;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** An SSE stream read by {@code curl -N} in a child process. */
final class CurlSse extends SseClient {
    private final Process process;

    private CurlSse(Process process, Consumer<Event> listener) {
        super(listener);
        this.process = process;
    }

    static CurlSse open(String url, String... headers) {
        return open(url, e -> { }, headers);
    }

    static CurlSse open(String url, Consumer<Event> listener, String... headers) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/curl", "-sS", "-N", "--max-time", "120",
                "-H", "Accept: text/event-stream"));
        for (String h : headers) {
            cmd.add("-H");
            cmd.add(h);
        }
        cmd.add(url);
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            CurlSse c = new CurlSse(p, listener);
            c.startReading(p.getInputStream(), "curl-sse-reader");
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    void disconnect() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
