package dev.switchboard.groups;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.ServerProcess;
import dev.switchboard.testing.Slow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a server process (fsync=always) holding a group's leases: after the restart on the same data,
 * the committed offset and every lease are as the members were answered, and the holders can still acknowledge.
 */
@Slow
@Timeout(value = 120, unit = SECONDS)
class GroupCrashTest {
    @TempDir
    Path dataDir;
    private Process child;
    private GroupHttp http;

    @AfterEach
    void stop() throws InterruptedException {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(30, SECONDS);
        }
        if (http != null) {
            http.close();
        }
    }

    private void startServer(int port) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(List.of(ServerProcess.command(port, dataDir.resolve("data"), "always")));
        Path log = Files.createDirectories(Path.of("target", "crash-test")).resolve("groups-" + port + ".log");
        child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Process p = child;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(p.isAlive()).as("server process is alive (log: %s)", log.toAbsolutePath()).isTrue();
            try {
                return http.send("GET", "/healthz", null).status() == 200;
            } catch (UncheckedIOException e) {
                return false;
            }
        });
    }

    @Test
    void committedOffsetsAndLeasesSurviveKillNine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        http = new GroupHttp("http://127.0.0.1:" + port);
        startServer(port);
        http.publish("ledger", 1, 100);
        List<GroupHttp.Fetched> held = http.fetch("ledger", "post", "a", 20, "0s");
        assertThat(http.ack("ledger", "post", "a", GroupHttp.offsets(held).subList(0, 10))).hasSize(10);
        List<GroupHttp.Fetched> other = http.fetch("ledger", "post", "b", 30, "0s");
        JsonNode before = http.status("ledger", "post");

        child.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, no close
        assertThat(child.waitFor(30, SECONDS)).isTrue();
        startServer(port);

        JsonNode after = http.status("ledger", "post");
        assertThat(after.get("committed").asLong()).isEqualTo(before.get("committed").asLong()).isEqualTo(11);
        assertThat(after.get("inFlight").asInt()).isEqualTo(before.get("inFlight").asInt()).isEqualTo(40);
        assertThat(after.get("lag").asLong()).isEqualTo(90);
        assertThat(GroupHttp.offsets(http.fetch("ledger", "post", "c", 1000, "0s")))
                .containsExactlyElementsOf(GroupContract.range(51, 100));
        assertThat(http.ack("ledger", "post", "a", GroupHttp.offsets(held).subList(10, 20))).hasSize(10);
        assertThat(http.ack("ledger", "post", "b", GroupHttp.offsets(other))).hasSize(30);
        assertThat(http.status("ledger", "post").get("committed").asLong()).isEqualTo(51);
    }
}
