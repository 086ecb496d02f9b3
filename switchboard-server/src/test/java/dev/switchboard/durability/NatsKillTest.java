package dev.switchboard.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ServerProcess;
import dev.switchboard.testing.Slow;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A NATS publisher's acknowledged messages (a {@code flush()} returns once the PUBs before it are stored,
 * docs/nats.md) survive {@code kill -9} of the server and are read back over HTTP after the restart.
 */
@Slow
@Timeout(120)
class NatsKillTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Process> children = new ArrayList<>();
    @TempDir
    Path tmp;

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Process start(int port, int natsPort, Path dataDir) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx512m", "--enable-native-access=ALL-UNNAMED"));
        command.addAll(List.of(ServerProcess.commandWithNats(port, natsPort, dataDir, "batch")));
        Path output = tmp.resolve("server-" + children.size() + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
        Process p = pb.start();
        children.add(p);
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!p.isAlive()) {
                throw new AssertionError("server exited:\n" + Files.readString(output));
            }
            try (var s = new java.net.Socket("127.0.0.1", natsPort)) {
                return s.isConnected();
            } catch (IOException e) {
                return false;
            }
        });
        return p;
    }

    @Test
    void everyMessageANatsFlushAcknowledgedSurvivesKill9() throws Exception {
        Path dataDir = tmp.resolve("data");
        int port = freePort();
        int natsPort = freePort();
        Process first = start(port, natsPort, dataDir);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Connection nats = Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + natsPort)
                .maxReconnects(0).build());
        CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> {
            List<String> batch = new ArrayList<>();
            for (int i = 0; ; i++) {
                String payload = "m" + i;
                batch.add(payload);
                try {
                    nats.publish("durable.nats", payload.getBytes(StandardCharsets.UTF_8));
                    if (batch.size() == 20) {
                        nats.flush(Duration.ofSeconds(5));
                        acknowledged.addAll(batch);
                        batch.clear();
                    }
                } catch (Exception e) {
                    return; // the server died
                }
            }
        });
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 1000);
        first.destroyForcibly(); // SIGKILL
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isEqualTo(137);
        publishing.get(30, TimeUnit.SECONDS);
        nats.close();
        Set<String> ackedAtKill = Set.copyOf(acknowledged);

        start(port, natsPort, dataDir);
        List<String> stored = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        long next = 1;
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/topics/durable.nats/messages?from=" + next + "&limit=1000")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(r.body());
            if (body.path("messages").isEmpty()) {
                break;
            }
            for (JsonNode m : body.path("messages")) {
                stored.add(m.path("data").asText());
                offsets.add(m.path("offset").asLong());
            }
            next = body.path("next").asLong();
        }
        assertThat(offsets).as("offsets 1..last, no holes")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, offsets.size()).boxed().toList());
        assertThat(stored).as("every acknowledged message").containsAll(ackedAtKill);
        assertThat(stored).doesNotHaveDuplicates();
        System.err.printf("NATS kill -9: %d acknowledged, %d stored%n", ackedAtKill.size(), stored.size());
    }
}
