package dev.switchboard.sidecar;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar tests' upstream: {@code src/test/resources/sidecar/upstream.py}, a real HTTP/1.1 app on Python's
 * standard library, in a process of its own (as a sidecar's app would be). A Python app rather than a JDK
 * {@code HttpServer} in a child JVM: it starts in a fraction of the time and memory, and it is what docs/sidecar.md's
 * walk-through runs beside Switchboard.
 */
final class UpstreamApp implements AutoCloseable {
    private Process process;
    private int port;

    private UpstreamApp() {
    }

    static UpstreamApp start() {
        UpstreamApp app = new UpstreamApp();
        app.launch(0);
        return app;
    }

    private void launch(int onPort) {
        try {
            Path script = Path.of(UpstreamApp.class.getResource("/sidecar/upstream.py").toURI());
            process = new ProcessBuilder("python3", script.toString(), Integer.toString(onPort))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("listening ")) {
                process.destroyForcibly();
                throw new IllegalStateException("the upstream app did not start: " + line);
            }
            port = Integer.parseInt(line.substring("listening ".length()).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    int port() {
        return port;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    URI uri(String path) {
        return URI.create(url() + path);
    }

    /** Kills the app; its port refuses connections until {@link #restart()}. */
    void stop() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the app again on the same port. */
    void restart() {
        launch(port);
    }

    @Override
    public void close() {
        stop();
    }
}
