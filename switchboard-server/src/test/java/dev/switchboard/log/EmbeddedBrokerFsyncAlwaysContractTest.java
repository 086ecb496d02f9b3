package dev.switchboard.log;

import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.ServerConfig;

/**
 * The engine contract under fsync=always, where a commit is answered only after its sync, which runs while the
 * writer stages the next commit: no reader, watcher or caller may see a commit before its sync completed.
 */
class EmbeddedBrokerFsyncAlwaysContractTest extends EmbeddedBrokerContractTest {
    @Override
    protected ServerConfig configure(ServerConfig config) {
        return config.withFsync(FsyncPolicy.ALWAYS);
    }
}
