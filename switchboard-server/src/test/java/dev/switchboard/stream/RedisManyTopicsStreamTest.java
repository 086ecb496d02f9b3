package dev.switchboard.stream;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.util.function.UnaryOperator;

/**
 * {@link ManyTopicsStreamTest} on a server whose engine is a real redis-server: patterns find topics through the
 * engine's asynchronous listing and its creation announcements, long polls read through its asynchronous reads.
 */
@Slow
class RedisManyTopicsStreamTest extends ManyTopicsStreamTest {
    @Override
    TestServer newServer(UnaryOperator<ServerConfig> customize) {
        return TestServer.onRedis(customize);
    }
}
