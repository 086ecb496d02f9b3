package dev.switchboard.cli;

import dev.switchboard.bench.BenchReport;
import dev.switchboard.bench.ClientIo;
import dev.switchboard.bench.FanoutBenchmark;
import dev.switchboard.bench.FanoutConfig;
import dev.switchboard.bench.FanoutConfig.Target;
import dev.switchboard.bench.FanoutConfig.Transport;
import dev.switchboard.bench.JobsBenchmark;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code switchboard bench …}: load tools that measure a running server. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = "Measure a running server.",
        subcommands = {BenchCommand.Fanout.class, BenchCommand.Jobs.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing benchmark: fanout or jobs");
    }

    @Command(name = "fanout",
            mixinStandardHelpOptions = true,
            description = {
                "One topic, N subscribers, publishers over HTTP: measures delivered msgs/s and publish-to-deliver "
                        + "latency, and checks every subscriber gets every message once, in order.",
                "With --target redis or nats, the same run drives that peer in its own protocol (Redis pub/sub, "
                        + "core NATS) for side-by-side figures.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Fanout implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--target", defaultValue = "switchboard", converter = TargetConverter.class,
                description = {"What to drive: switchboard, redis (pub/sub over RESP) or nats (core protocol). Default: ${DEFAULT-VALUE}",
                        "A peer needs --server redis://HOST:PORT or nats://HOST:PORT (default: its standard port on 127.0.0.1)."})
        Target target;

        @Option(names = "--transport", defaultValue = "ws", converter = TransportConverter.class,
                description = "How subscribers receive from Switchboard: ws or sse. Default: ${DEFAULT-VALUE}")
        Transport transport;

        @Option(names = "--subscribers", defaultValue = "100", description = "Subscriber connections. Default: ${DEFAULT-VALUE}")
        int subscribers;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per message. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--rate", defaultValue = "0",
                description = {"Publishes per second over all publishers; 0 = as fast as the server answers. Default: ${DEFAULT-VALUE}",
                        "At 0, latency includes queueing behind the requests in flight; set a rate to see latency at a given load."})
        int rate;

        @Option(names = "--duration", defaultValue = "10s", converter = ServeCommand.DurationConverter.class,
                description = "Measured time, after the warmup. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(names = "--warmup", defaultValue = "2s", converter = ServeCommand.DurationConverter.class,
                description = "Time published but left out of the figures. Default: ${DEFAULT-VALUE}")
        Duration warmup;

        @Option(names = "--drain", defaultValue = "10s", converter = ServeCommand.DurationConverter.class,
                description = "After publishing, how long subscribers may take to receive everything. Default: ${DEFAULT-VALUE}")
        Duration drain;

        @Option(names = "--topic",
                description = "Topic to use; no one else may publish to it during the run. Default: a fresh bench.<random>")
        String topic;

        @Option(names = "--publishers", defaultValue = "1",
                description = "Publisher connections (HTTP/1.1 keep-alive). Default: ${DEFAULT-VALUE}")
        int publishers;

        @Option(names = "--inflight", defaultValue = "16",
                description = {"Requests pipelined on each publisher connection; 1 = wait for each answer. Default: ${DEFAULT-VALUE}",
                        "A server may work through pipelined requests one at a time: more --publishers add concurrency."})
        int inflight;

        @Option(names = "--io", defaultValue = "auto", converter = IoConverter.class,
                description = "Event-loop engine: auto, epoll or nio. Default: ${DEFAULT-VALUE}")
        ClientIo.Mode io;

        @Option(names = "--threads", description = "Event-loop threads for subscribers. Default: one per core")
        int threads = Runtime.getRuntime().availableProcessors();

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            FanoutConfig config;
            try {
                URI server = target != Target.SWITCHBOARD
                        && !spec.commandLine().getParseResult().hasMatchedOption("--server")
                        ? target.defaultServer() : client.server;
                config = new FanoutConfig(target, server, transport, subscribers, size, rate, warmup, duration, drain,
                        topic == null ? FanoutConfig.freshTopic() : topic, publishers, inflight, io, threads);
            } catch (IllegalArgumentException e) {
                throw client.usage(e.getMessage());
            }
            FanoutBenchmark benchmark = new FanoutBenchmark(config, spec.commandLine().getErr());
            return BenchReport.print(benchmark.run(), json, spec.commandLine().getOut());
        }
    }

    @Command(name = "jobs",
            mixinStandardHelpOptions = true,
            description = {
                "Jobs end to end: closed-loop submitters submit with ?wait= and wait for the result; workers claim "
                        + "and complete at once. Measures jobs/s and submit-to-result latency (what the server adds).",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Jobs implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--workers", defaultValue = "4", description = "Worker threads. Default: ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--submitters", defaultValue = "0",
                description = "Closed-loop submitter threads, 0 = twice the workers. Default: ${DEFAULT-VALUE}")
        int submitters;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per job. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--duration", defaultValue = "10s", converter = ServeCommand.DurationConverter.class,
                description = "Measured time, after the warmup. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(names = "--warmup", defaultValue = "2s", converter = ServeCommand.DurationConverter.class,
                description = "Time left out of the figures. Default: ${DEFAULT-VALUE}")
        Duration warmup;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (workers < 1 || submitters < 0 || size < 1) {
                throw client.usage("--workers and --size must be >= 1, --submitters >= 0");
            }
            JobsBenchmark.Config config = new JobsBenchmark.Config(client.server, workers,
                    submitters == 0 ? 2 * workers : submitters, size, warmup, duration,
                    JobsBenchmark.Config.freshQueue());
            return BenchReport.print(new JobsBenchmark(config, spec.commandLine().getErr()).run(), json,
                    spec.commandLine().getOut());
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
