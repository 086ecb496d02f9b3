package dev.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import dev.switchboard.bench.FanoutConfig.Target;
import dev.switchboard.bench.FanoutConfig.Transport;
import dev.switchboard.testing.TestServer;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A short fan-out through each target: real {@code redis-server} and {@code nats-server} child processes on free
 * loopback ports, and a Switchboard {@link TestServer}. Every subscriber must get every message once, in order.
 */
class PeerAdaptersTest {
    private static final int SUBSCRIBERS = 10;

    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (AutoCloseable s : servers) {
            s.close();
        }
    }

    @Test
    void redis() throws Exception {
        int port = freePort();
        start(port, binary("redis-server"), "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no");
        assertExact(run(Target.REDIS, URI.create("redis://127.0.0.1:" + port)), "redis-resp");
    }

    @Test
    void nats() throws Exception {
        int port = freePort();
        start(port, binary("nats-server"), "-a", "127.0.0.1", "-p", String.valueOf(port));
        assertExact(run(Target.NATS, URI.create("nats://127.0.0.1:" + port)), "nats-core");
    }

    @Test
    void switchboard() throws Exception {
        TestServer server = TestServer.start();
        servers.add(server);
        assertExact(run(Target.SWITCHBOARD, URI.create(server.url())), "ws");
    }

    private static FanoutReport run(Target target, URI server) throws IOException, InterruptedException {
        FanoutConfig config = new FanoutConfig(target, server, Transport.WS, SUBSCRIBERS, 64, 500,
                Duration.ofMillis(300), Duration.ofSeconds(1), Duration.ofSeconds(10), FanoutConfig.freshTopic(),
                2, 4, ClientIo.Mode.AUTO, 2);
        StringWriter err = new StringWriter();
        return new FanoutBenchmark(config, new PrintWriter(err, true)).run();
    }

    private static void assertExact(FanoutReport report, String transport) {
        assertThat(report.transport()).isEqualTo(transport);
        assertThat(report.errorSamples()).isEmpty();
        assertThat(report.failedSubscribers()).isEmpty();
        assertThat(report.errors().total()).as(report.toText()).isZero();
        assertThat(report.published()).as(report.toText()).isPositive();
        assertThat(report.delivered()).as(report.toText()).isEqualTo(report.published() * SUBSCRIBERS);
    }

    private void start(int port, Path binary, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        Path log = Files.createTempFile("peer", ".log");
        log.toFile().deleteOnExit();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(process);
        await("%s listening on %d".formatted(binary.getFileName(), port)).atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    if (!process.isAlive()) {
                        fail(binary + " exited with " + process.exitValue() + ": " + Files.readString(log));
                    }
                    return accepts(port);
                });
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The peer's binary on the PATH or in Debian's sbin/bin; fails, not skips, when it is not installed. */
    private static Path binary(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/usr/bin", "/usr/local/bin"));
        for (String dir : dirs) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return fail(name + " is not installed (looked in PATH, /usr/sbin, /usr/bin): "
                + "apt-get install -y redis-server nats-server, as .ci/run does");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
