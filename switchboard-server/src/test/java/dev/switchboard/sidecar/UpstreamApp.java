package dev.switchboard.sidecar;

import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.TestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar tests' upstream: {@code src/test/resources/sidecar/upstream.py}, a real HTTP/1.1 app on Python's
 * standard library, in a process of its own (as a sidecar's app would be). A Python app rather than a JDK
 * {@code HttpServer} in a child JVM: it starts in a fraction of the time and memory, and it is what docs/sidecar.md's
 * walk-through runs beside Switchboard.
 */
public final class UpstreamApp implements AutoCloseable {
    /** The certificate and key it serves HTTPS with; null: plain HTTP. */
    private final Path cert;
    private final Path key;
    private final String address;
    private Process process;
    private int port;

    private UpstreamApp(Path cert, Path key, String address) {
        this.cert = cert;
        this.key = key;
        this.address = address;
    }

    public static UpstreamApp start() {
        UpstreamApp app = new UpstreamApp(null, null, "127.0.0.1");
        app.launch(0);
        return app;
    }

    /** The app over HTTPS on {@code address} (a loopback one), serving {@code cert} and {@code key} (PEM files). */
    static UpstreamApp startTls(Path cert, Path key, String address) {
        UpstreamApp app = new UpstreamApp(cert, key, address);
        app.launch(0);
        return app;
    }

    private void launch(int onPort) {
        try {
            Path script = Path.of(UpstreamApp.class.getResource("/sidecar/upstream.py").toURI());
            List<String> command = new ArrayList<>(List.of("python3", script.toString(), Integer.toString(onPort)));
            if (cert != null) {
                command.addAll(List.of(cert.toString(), key.toString(), address));
            }
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
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

    public int port() {
        return port;
    }

    public String url() {
        return (cert == null ? "http" : "https") + "://" + address + ":" + port;
    }

    public URI uri(String path) {
        return URI.create(url() + path);
    }

    /** A Switchboard in sidecar mode in front of this app (its route {@code /}), with the default settings. */
    public TestServer inFront() {
        return TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", url()))), c -> c);
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
