package dev.switchboard.loadtest;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.FanoutConfig.Transport;
import dev.switchboard.cli.ClientOptions;
import dev.switchboard.cli.DurationConverter;
import dev.switchboard.cli.LowerEnum;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** What several {@code bench} subcommands share: where to connect, option groups (mixins) and converters. */
final class BenchOptions {
    /** Event-loop threads of durable, idle, longpoll and stalled: a few, so the client is not the bottleneck. */
    private static final int DEFAULT_THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());

    private BenchOptions() {}

    /**
     * {@code --server}, or the peer's standard address when a peer is targeted and no server was given; for
     * Switchboard with {@code --token}, the token rides along as the URL's query (see {@link ServerEndpoint}).
     */
    static URI server(CommandLine.Model.CommandSpec spec, ClientOptions client, Target target) {
        if (target != Target.SWITCHBOARD) {
            return spec.commandLine().getParseResult().hasMatchedOption("--server") ? client.server
                    : target.defaultServer();
        }
        String token = client.token();
        return token == null ? client.server
                : URI.create(client.server + "?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8));
    }

    /** The server whose memory idle and stalled read. */
    static final class ServerPid {
        @Option(names = "--server-pid", defaultValue = "-1",
                description = "The server's process id, to read its memory from /proc/PID/status. Default: none (rss fields -1)")
        long pid;
    }

    /** The measured time and the warmup before it, of runs that publish. */
    static final class Timing {
        @Option(names = "--duration", defaultValue = "10s", converter = DurationConverter.class,
                description = "Measured time, after the warmup. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(names = "--warmup", defaultValue = "2s", converter = DurationConverter.class,
                description = "Time published but left out of the figures. Default: ${DEFAULT-VALUE}")
        Duration warmup;
    }

    /** What durable, idle, longpoll and stalled share: the event loops, the report's form, and building, running, printing. */
    static final class WorkloadOptions {
        @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
        CommandLine.Model.CommandSpec command;

        @Option(names = "--io", defaultValue = "auto", converter = IoConverter.class,
                description = "Event-loop engine: auto, epoll or nio. Default: ${DEFAULT-VALUE}")
        ClientIo.Mode io;

        @Option(names = "--threads", description = "Event-loop threads for the client's connections. Default: up to 4")
        int threads = DEFAULT_THREADS;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        interface Run<C> {
            BenchReport run(C config, PrintWriter err) throws IOException, InterruptedException;
        }

        /** Builds the settings (a bad value is a usage error, exit 2), runs and prints; exit 1 if the run saw errors. */
        <C> int run(ClientOptions client, Supplier<C> config, Run<C> benchmark) throws IOException, InterruptedException {
            C settings;
            try {
                settings = config.get();
            } catch (IllegalArgumentException e) {
                throw client.usage(e.getMessage());
            }
            return BenchReport.print(benchmark.run(settings, command.commandLine().getErr()), json,
                    command.commandLine().getOut());
        }
    }

    static final class TransportConverter extends LowerEnum<Transport> {
        TransportConverter() {
            super(Transport.class);
        }
    }

    static final class TargetConverter extends LowerEnum<Target> {
        TargetConverter() {
            super(Target.class);
        }
    }

    static final class IoConverter extends LowerEnum<ClientIo.Mode> {
        IoConverter() {
            super(ClientIo.Mode.class);
        }
    }
}
