package dev.switchboard.cli;

import dev.switchboard.bench.ClientIo;
import dev.switchboard.bench.FanoutBenchmark;
import dev.switchboard.bench.FanoutConfig;
import dev.switchboard.bench.FanoutConfig.Transport;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code switchboard bench …}: load tools that measure a running server. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = "Measure a running server.",
        subcommands = {BenchCommand.Fanout.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing benchmark: fanout");
    }

    @Command(name = "fanout",
            mixinStandardHelpOptions = true,
            description = {
                "One topic, N subscribers, publishers over HTTP: measures delivered msgs/s and publish-to-deliver "
                        + "latency, and checks every subscriber gets every message once, in order.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Fanout implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--transport", defaultValue = "ws", converter = TransportConverter.class,
                description = "How subscribers receive: ws or sse. Default: ${DEFAULT-VALUE}")
        Transport transport;

        @Option(names = "--subscribers", defaultValue = "100", description = "Subscriber connections. Default: ${DEFAULT-VALUE}")
        int subscribers;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per message. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--rate", defaultValue = "0",
                description = "Publishes per second over all publishers; 0 = as fast as the server answers. Default: ${DEFAULT-VALUE}")
        int rate;

        @Option(names = "--duration", defaultValue = "10s", converter = DurationConverter.class,
                description = "Measured time, after the warmup. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(names = "--warmup", defaultValue = "2s", converter = DurationConverter.class,
                description = "Time published but left out of the figures. Default: ${DEFAULT-VALUE}")
        Duration warmup;

        @Option(names = "--drain", defaultValue = "10s", converter = DurationConverter.class,
                description = "After publishing, how long subscribers may take to receive everything. Default: ${DEFAULT-VALUE}")
        Duration drain;

        @Option(names = "--topic",
                description = "Topic to use; no one else may publish to it during the run. Default: a fresh bench.<random>")
        String topic;

        @Option(names = "--publishers", defaultValue = "1",
                description = "Publisher connections (HTTP/1.1 keep-alive). Default: ${DEFAULT-VALUE}")
        int publishers;

        @Option(names = "--inflight", defaultValue = "16",
                description = "Requests pipelined on each publisher connection; 1 = wait for each answer. Default: ${DEFAULT-VALUE}")
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
                config = new FanoutConfig(client.server, transport, subscribers, size, rate, warmup, duration, drain,
                        topic == null ? FanoutConfig.freshTopic() : topic, publishers, inflight, io, threads);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            FanoutBenchmark benchmark = new FanoutBenchmark(config, spec.commandLine().getErr());
            return FanoutBenchmark.print(benchmark.run(), json, spec.commandLine().getOut());
        }
    }

    /** Durations as the API writes them: {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

        @Override
        public Duration convert(String value) {
            Matcher m = DURATION.matcher(value.trim());
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 500ms, 10s, 2m or 1h");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
    }

    static final class TransportConverter implements CommandLine.ITypeConverter<Transport> {
        @Override
        public Transport convert(String value) {
            return lowerCaseName(Transport.class, value);
        }
    }

    static final class IoConverter implements CommandLine.ITypeConverter<ClientIo.Mode> {
        @Override
        public ClientIo.Mode convert(String value) {
            return lowerCaseName(ClientIo.Mode.class, value);
        }
    }

    /** Options spell enum constants in lower case, as the API does ({@code ws}, {@code epoll}). */
    private static <E extends Enum<E>> E lowerCaseName(Class<E> type, String value) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value)) {
                return constant;
            }
        }
        throw new CommandLine.TypeConversionException("'" + value + "' is not one of "
                + Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
    }
}
