package dev.switchboard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real redis-server for a test class ({@code @RegisterExtension static final RedisPerClass redis = …}): started
 * before its first test in a directory of its own, stopped and removed after its last, and optionally emptied before
 * each test so that tests of a shared contract start from nothing.
 */
public final class RedisPerClass implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {
    private final boolean emptiedBeforeEachTest;
    private Path dir;
    private RedisServer server;

    private RedisPerClass(boolean emptiedBeforeEachTest) {
        this.emptiedBeforeEachTest = emptiedBeforeEachTest;
    }

    /** A server whose data stays from test to test. */
    public static RedisPerClass shared() {
        return new RedisPerClass(false);
    }

    /** A server emptied ({@code FLUSHALL}) before each test. */
    public static RedisPerClass emptiedBeforeEachTest() {
        return new RedisPerClass(true);
    }

    public RedisServer server() {
        return server;
    }

    public String uri() {
        return server.uri();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        try {
            dir = Files.createTempDirectory("switchboard-redis");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server = RedisServer.start(dir);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (emptiedBeforeEachTest) {
            server.cli("FLUSHALL");
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
