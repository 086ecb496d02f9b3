package dev.switchboard.testing;

import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.server.SwitchboardServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The server as its own OS process, for tests that kill it ({@code kill -9}) or restart it: {@code ServerProcess PORT
 * DATA_DIR FSYNC [ENGINE [NATS_PORT]]}. The server module has no command line of its own (that is {@code switchboard serve}, in the
 * distribution), so crash tests start this instead, with the test defaults of {@link ServerConfig#forTests}.
 */
public final class ServerProcess {
    /** A system property of the child JVM: its groups' ack timeout (ISO-8601, {@code PT1S}), for lease tests. */
    public static final String ACK_TIMEOUT_PROPERTY = "switchboard.test.ackTimeout";

    private ServerProcess() {}

    public static void main(String[] args) throws InterruptedException {
        ServerConfig config = ServerConfig.forTests(Path.of(args[1])).withPort(Integer.parseInt(args[0]))
                .withFsync(FsyncPolicy.valueOf(args[2].toUpperCase(Locale.ROOT)))
                .withEngine(args.length > 3 ? args[3] : ServerConfig.EMBEDDED)
                .withNatsPort(args.length > 4 ? Integer.parseInt(args[4]) : ServerConfig.NATS_OFF);
        String ackTimeout = System.getProperty(ACK_TIMEOUT_PROPERTY);
        if (ackTimeout != null) {
            config = config.withGroups(GroupSettings.DEFAULTS.withDelivery(Duration.parse(ackTimeout),
                    GroupSettings.DEFAULTS.maxDeliveries()));
        }
        SwitchboardServer server = SwitchboardServer.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "switchboard-shutdown"));
        server.awaitClose();
    }

    /** The arguments of {@code java -cp <this class path> …} that start a node on a shared engine (a Redis URI). */
    public static String[] command(int port, Path dataDir, String fsync, String engine) {
        return new String[] {"-cp", System.getProperty("java.class.path"), ServerProcess.class.getName(),
                String.valueOf(port), dataDir.toString(), fsync, engine};
    }

    /** The arguments that start an embedded-engine server with its NATS port on {@code natsPort} too. */
    public static String[] commandWithNats(int port, int natsPort, Path dataDir, String fsync) {
        return new String[] {"-cp", System.getProperty("java.class.path"), ServerProcess.class.getName(),
                String.valueOf(port), dataDir.toString(), fsync, ServerConfig.EMBEDDED, String.valueOf(natsPort)};
    }

    /** The arguments of {@code java -cp <this class path> …} that start a server process. */
    public static String[] command(int port, Path dataDir, String fsync) {
        return new String[] {"-cp", System.getProperty("java.class.path"), ServerProcess.class.getName(),
                String.valueOf(port), dataDir.toString(), fsync};
    }
}
