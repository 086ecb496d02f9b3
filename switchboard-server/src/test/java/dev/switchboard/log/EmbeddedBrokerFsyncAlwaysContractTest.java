package dev.switchboard.log;

import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.ServerConfig;

/** The engine contract under fsync=always, where every commit is written with its fsync before it is answered. */
class EmbeddedBrokerFsyncAlwaysContractTest extends EmbeddedBrokerContractTest {
    @Override
    protected ServerConfig configure(ServerConfig config) {
        return config.withFsync(FsyncPolicy.ALWAYS);
    }
}
