package dev.switchboard.client.it;

import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.util.function.UnaryOperator;

/** {@link ClientJobsTest}'s client jobs, on a server whose engine is a real redis-server. */
@Slow
class RedisClientJobsTest extends ClientJobsTest {
    @Override
    TestServer newServer() {
        return TestServer.onRedis(UnaryOperator.identity());
    }
}
