package dev.switchboard.cli;

import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Switchboard node processes on one real redis-server, for tests that kill nodes; closing stops them all. */
final class RedisNodes implements AutoCloseable {
    private final Path dir;
    private final RedisServer redis;
    private final List<Process> nodes = new ArrayList<>();
    private final List<String> urls = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    /** Starts a redis-server and {@code count} nodes on it, all at once, and returns once each is ready. */
    RedisNodes(Path dir, int count) throws IOException {
        this.dir = dir;
        this.redis = RedisServer.start(dir.resolve("redis"));
        for (int i = 0; i < count; i++) {
            startNode(i);
        }
        for (int i = 0; i < count; i++) {
            awaitReady(i);
        }
    }

    /** The base URL of node {@code i} (0-based). */
    String url(int i) {
        return urls.get(i);
    }

    /** {@code kill -9} of node {@code i}. */
    void kill(int i) throws InterruptedException {
        nodes.get(i).destroyForcibly();
        nodes.get(i).waitFor(30, TimeUnit.SECONDS);
    }

    private void startNode(int i) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path output = dir.resolve("node-" + i + ".log");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "--enable-native-access=ALL-UNNAMED"));
        command.addAll(List.of(ServerProcess.command(port, Files.createDirectories(dir.resolve("node-" + i)),
                "batch", redis.uri())));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
        nodes.add(pb.start());
        urls.add("http://127.0.0.1:" + port);
    }

    private void awaitReady(int i) {
        Process p = nodes.get(i);
        String base = urls.get(i);
        Path output = dir.resolve("node-" + i + ".log");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            if (!p.isAlive()) {
                throw new AssertionError("node exited:\n" + Files.readString(output));
            }
            return http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        });
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : nodes) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        http.close();
        redis.close();
    }
}
