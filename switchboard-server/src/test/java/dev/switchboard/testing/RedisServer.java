package dev.switchboard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real {@code redis-server} (Debian's, /usr/bin) on a free loopback port, in its own directory, for the tests of
 * the Redis engine. Persistence is on (append-only file, fsync every second), so that {@link #restart} keeps what
 * was stored. Tests stop it ({@link #close}); a JVM that dies still takes it along: the process is told to exit
 * when its parent does not answer (it is started with the JVM's pid in its arguments, checked by a shutdown hook).
 */
public final class RedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    /** The arguments after {@code redis-server}. */
    private final List<String> arguments;
    private Process process;

    private RedisServer(Path dir, int port, List<String> arguments) {
        this.dir = dir;
        this.port = port;
        this.arguments = arguments;
    }

    /** Starts one in {@code dir} (created if needed) with these extra {@code --option value} arguments. */
    public static RedisServer start(Path dir, String... extraArgs) {
        return start(dir, freePort(), extraArgs);
    }

    /** Starts one on {@code port}. */
    static RedisServer start(Path dir, int port, String... extraArgs) {
        List<String> arguments = new ArrayList<>(List.of("--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                "--daemonize", "no", "--logfile", dir.resolve("redis.log").toString()));
        arguments.addAll(List.of(extraArgs));
        RedisServer r = new RedisServer(dir, port, arguments);
        r.startProcess();
        return r;
    }

    /** Starts a Sentinel in {@code dir} that watches {@code master} under the name {@code masterName}. */
    public static RedisServer sentinel(Path dir, RedisServer master, String masterName) {
        return sentinel(dir, master, masterName, 1, Duration.ofSeconds(30));
    }

    /**
     * Starts one of several Sentinels watching {@code master}: {@code quorum} of them must find it down, after
     * {@code downAfter} without an answer, to fail it over to a replica (they find each other through the master).
     */
    public static RedisServer sentinel(Path dir, RedisServer master, String masterName, int quorum,
                                       Duration downAfter) {
        int port = freePort();
        Path config = dir.resolve("sentinel.conf");
        try {
            Files.createDirectories(dir);
            // Sentinel rewrites its configuration file, so it needs one of its own on disk.
            Files.writeString(config, String.join("\n", "port " + port, "bind 127.0.0.1", "dir " + dir,
                    "logfile " + dir.resolve("sentinel.log"),
                    "sentinel monitor " + masterName + " 127.0.0.1 " + master.port() + " " + quorum,
                    "sentinel down-after-milliseconds " + masterName + " " + downAfter.toMillis(),
                    "sentinel failover-timeout " + masterName + " " + 4 * downAfter.toMillis(), ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RedisServer r = new RedisServer(dir, port, List.of(config.toString(), "--sentinel"));
        r.startProcess();
        return r;
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    private void startProcess() {
        try {
            Files.createDirectories(dir);
            List<String> command = new ArrayList<>(List.of("/usr/bin/redis-server"));
            command.addAll(arguments);
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.out").toFile()).start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError("redis-server exited: " + Files.readString(dir.resolve("redis.out")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            }
        });
    }

    /** {@code redis-cli} against this server; returns its output. */
    public String cli(String... args) {
        List<String> command = new ArrayList<>(List.of("/usr/bin/redis-cli", "-p", String.valueOf(port)));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli " + String.join(" ", args) + " failed: " + out);
            }
            return out.trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Kills it ({@code kill -9}): what was not yet fsynced is lost, as in a crash. */
    public void kill() {
        process.destroyForcibly();
        waitForExit();
    }

    /**
     * Stops the process where it is ({@code SIGSTOP}): it answers nothing, connections stay open, until
     * {@link #thaw}. For tests of what a node does while Redis does not answer.
     */
    public void freeze() {
        signal("-STOP");
    }

    /** Lets a {@link #freeze frozen} process go on ({@code SIGCONT}). */
    public void thaw() {
        signal("-CONT");
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", signal, String.valueOf(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts it again on the same port and directory, after {@link #kill} or {@link #close}. */
    public void restart() {
        startProcess();
    }

    private void waitForExit() {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server did not exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops it (SIGTERM: it writes its append-only file and exits). */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            waitForExit();
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
