package dev.switchboard.jobs;

import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.util.function.UnaryOperator;

/** {@link JobResultTtlTest} on Redis, where every node's timer removes finished jobs past their TTL. */
@Slow
class RedisJobResultTtlTest extends JobResultTtlTest {
    @Override
    TestServer newServer() {
        return TestServer.onRedis(UnaryOperator.identity());
    }
}
