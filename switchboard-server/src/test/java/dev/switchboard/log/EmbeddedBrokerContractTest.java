package dev.switchboard.log;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.BrokerContractTest;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The embedded engine keeps the engine contract, on a real RocksDB log in a temporary directory. */
class EmbeddedBrokerContractTest extends BrokerContractTest {
    @TempDir
    Path dir;

    private ServerConfig config;
    private EmbeddedBroker current;

    /** The tests' default policy; {@link EmbeddedBrokerFsyncAlwaysContractTest} runs the suite under another. */
    protected ServerConfig configure(ServerConfig config) {
        return config;
    }

    @Override
    protected Broker open(Limits limits, Retention defaultRetention) {
        config = configure(ServerConfig.forTests(dir).withLimits(limits).withDefaultRetention(defaultRetention));
        current = EmbeddedBroker.open(config, new SimpleMeterRegistry());
        return current;
    }

    @Override
    protected Broker restart() {
        current.close();
        current = EmbeddedBroker.open(config, new SimpleMeterRegistry());
        return current;
    }
}
