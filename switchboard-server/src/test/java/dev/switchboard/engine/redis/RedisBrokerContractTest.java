package dev.switchboard.engine.redis;

import dev.switchboard.testing.RedisPerClass;
import dev.switchboard.testing.Slow;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Redis engine keeps the engine contract, on a real redis-server that this class starts and stops. */
@Slow
class RedisBrokerContractTest extends RedisEngineContract {
    @RegisterExtension
    static final RedisPerClass redis = RedisPerClass.shared();

    @Override
    protected String uri() {
        return redis.uri();
    }

    @Override
    protected void flushAll() {
        redis.server().cli("FLUSHALL");
    }
}
