package dev.switchboard.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real {@code redis-server} and {@code nats-server} child processes on free loopback ports, for tests that compare
 * the load tool's peer adapters. Close it to stop them and delete their directories.
 */
public final class PeerProcesses implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> dirs = new ArrayList<>();

    /** A started peer: where it listens and its process id. */
    public record Peer(URI uri, long pid) {
    }

    /** Starts {@code redis-server} with {@code args} added to port and bind, its working directory a fresh one. */
    public Peer redis(String... args) throws IOException {
        int port = freePort();
        Path dir = tempDir();
        List<String> command = new ArrayList<>(List.of("--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--daemonize", "no"));
        command.addAll(List.of(args));
        return new Peer(URI.create("redis://127.0.0.1:" + port), start(port, binary("redis-server"), command));
    }

    /** Starts {@code nats-server} with {@code args} added to address and port. */
    public Peer nats(String... args) throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of("-a", "127.0.0.1", "-p", String.valueOf(port)));
        command.addAll(List.of(args));
        return new Peer(URI.create("nats://127.0.0.1:" + port), start(port, binary("nats-server"), command));
    }

    /** A fresh directory, deleted on {@link #close}. */
    public Path tempDir() throws IOException {
        Path dir = Files.createTempDirectory("peer");
        dirs.add(dir);
        return dir;
    }

    private long start(int port, Path binary, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(args);
        Path log = tempDir().resolve("peer.log");
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
        return process.pid();
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
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (Path dir : dirs) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp directory left behind is harmless
            }
        }
    }
}
