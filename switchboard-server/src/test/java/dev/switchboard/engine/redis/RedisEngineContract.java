package dev.switchboard.engine.redis;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.BrokerContractTest;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/** The contract suite on the Redis engine: subclasses start the Redis (and what finds it) that it runs against. */
abstract class RedisEngineContract extends BrokerContractTest {
    private Limits limits;
    private Retention defaultRetention;
    private RedisBroker current;

    /** Where the engine finds Redis. */
    protected abstract String uri();

    /** Empties the Redis that holds the data: before each test. */
    protected abstract void flushAll();

    @Override
    protected Broker open(Limits limits, Retention defaultRetention) {
        flushAll();
        this.limits = limits;
        this.defaultRetention = defaultRetention;
        return current = openEngine();
    }

    @Override
    protected Broker restart() {
        current.close();
        return current = openEngine();
    }

    private RedisBroker openEngine() {
        return RedisBroker.open(uri(), "sb:", 0, limits, defaultRetention, Duration.ofHours(24),
                new SimpleMeterRegistry());
    }
}
