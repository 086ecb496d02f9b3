package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.ServerProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A server (or any main class of the test class path) as a child JVM, to be killed with SIGKILL and started again on
 * the same data directory and port. Its output goes to a log file under target/.
 */
final class ServerChild implements AutoCloseable {
    private final int port;
    private final Path dataDir;
    private final Path log;
    private Process process;

    ServerChild() throws IOException {
        this.port = ClientTopicsTest.freePort();
        this.dataDir = Files.createTempDirectory("switchboard-client-crash");
        this.log = Files.createDirectories(Path.of("target", "client-crash")).resolve("server-" + port + ".log");
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Starts the server with fsync always (an acknowledged publish survives SIGKILL) and waits until it answers. */
    void start() throws IOException {
        List<String> command = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(List.of(ServerProcess.command(port, dataDir, "always")));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        Process p = process;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
            assertThat(p.isAlive()).as("server process alive (log: %s)", log.toAbsolutePath()).isTrue();
            try {
                return http.send(HttpRequest.newBuilder(URI.create(url() + "/healthz")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** SIGKILL: no shutdown hook, no flush, no close frames. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    static String java() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    @Override
    public void close() throws Exception {
        if (process != null) {
            kill();
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
