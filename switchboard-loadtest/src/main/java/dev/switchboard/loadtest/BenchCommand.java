package dev.switchboard.loadtest;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.FanoutConfig.Transport;
import dev.switchboard.loadtest.BenchOptions.IoConverter;
import dev.switchboard.loadtest.BenchOptions.ServerPid;
import dev.switchboard.loadtest.BenchOptions.TargetConverter;
import dev.switchboard.loadtest.BenchOptions.Timing;
import dev.switchboard.loadtest.BenchOptions.TransportConverter;
import dev.switchboard.loadtest.BenchOptions.WorkloadOptions;
import dev.switchboard.cli.ClientOptions;
import dev.switchboard.cli.DurationConverter;
import io.netty.util.ResourceLeakDetector;
import java.net.URI;
import java.util.List;
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
        subcommands = {BenchCommand.Fanout.class, BenchCommand.Jobs.class, BenchCommand.Groups.class,
            BenchCommand.Durable.class,
            BenchCommand.Idle.class, BenchCommand.LongPoll.class, BenchCommand.Stalled.class,
            BenchCommand.Client.class, BenchCommand.Request.class, BenchReportCommand.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing benchmark: fanout, jobs, durable, idle, longpoll, stalled, client or report");
    }

    @Command(name = "fanout",
            mixinStandardHelpOptions = true,
            description = {
                "One topic, N subscribers, publishers over HTTP: measures delivered msgs/s and publish-to-deliver "
                        + "latency, and checks every subscriber gets every message once, in order.",
                "With --target redis or nats, the same run drives that peer in its own protocol (Redis pub/sub, "
                        + "core NATS) for side-by-side figures; with --target pushpin, Pushpin's publish port "
                        + "(--server) and held SSE streams (--subscribe-to, --events-path).",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Fanout implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--target", defaultValue = "switchboard", converter = TargetConverter.class,
                description = {"What to drive: switchboard, redis (pub/sub over RESP), nats (core protocol) or pushpin (GRIP publish, held SSE). Default: ${DEFAULT-VALUE}",
                        "A peer needs --server redis://HOST:PORT or nats://HOST:PORT (default: its standard port on 127.0.0.1)."})
        Target target;

        @Option(names = "--transport", defaultValue = "ws", converter = TransportConverter.class,
                description = "How subscribers receive from Switchboard: ws or sse. Default: ${DEFAULT-VALUE}")
        Transport transport;

        @Option(names = "--pattern",
                description = {"With --transport sse: subscribe by a pattern matching the topic (bench.x → /v1/events?topic=bench.*) instead of by the topic, to compare the cost of pattern fan-out with exact; no other topic under the pattern may be published to during the run."})
        boolean pattern;

        @Option(names = "--subscribers", defaultValue = "100", description = "Subscriber connections. Default: ${DEFAULT-VALUE}")
        int subscribers;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per message. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--rate", defaultValue = "0",
                description = {"Publishes per second over all publishers; 0 = as fast as the server answers. Default: ${DEFAULT-VALUE}",
                        "At 0, latency includes queueing behind the requests in flight; set a rate to see latency at a given load."})
        int rate;

        @Mixin
        Timing timing;

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
                description = {"Requests pipelined on each publisher connection; 1 = wait for each answer. Default: ${DEFAULT-VALUE}",
                        "A server may work through pipelined requests one at a time: more --publishers add concurrency."})
        int inflight;

        @Option(names = "--batch", defaultValue = "1",
                description = {"Messages per publish request to Switchboard, at most --inflight: 1 = single publishes; more = batch publishes (POST /v1/topics/T/batch, NDJSON) of up to that many. Default: ${DEFAULT-VALUE}",
                        "Pushpin's publisher always sends its --inflight messages as the items of one request: --batch --inflight gives Switchboard the same load shape."})
        int batch;

        @Option(names = "--io", defaultValue = "auto", converter = IoConverter.class,
                description = "Event-loop engine: auto, epoll or nio. Default: ${DEFAULT-VALUE}")
        ClientIo.Mode io;

        @Option(names = "--threads", description = "Event-loop threads for subscribers. Default: one per core")
        int threads = Runtime.getRuntime().availableProcessors();

        @Option(names = "--subscribe-to", split = ",", paramLabel = "URL",
                description = {"Nodes of one cluster on a shared engine (docs/cluster.md), comma-separated: subscribers are spread over them, publishers use --server. Default: all on --server"})
        List<URI> subscribeTo = List.of();

        @Option(names = "--events-path", paramLabel = "PATH",
                description = {"SSE subscribers subscribe here instead, {topic} standing for the topic: a path an upstream holds in sidecar mode (docs/sidecar.md), or Pushpin's backend. Default: /v1/topics/{topic}/events?from=next"})
        String eventsPath;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (pattern && (transport != Transport.SSE || target != Target.SWITCHBOARD)) {
                throw client.usage("--pattern is for --transport sse on --target switchboard");
            }
            FanoutConfig config;
            try {
                config = new FanoutConfig(target, BenchOptions.server(spec, client, target),
                        pattern ? Transport.SSE_PATTERN : transport, subscribers, size, rate,
                        timing.warmup, timing.duration, drain,
                        topic == null ? FanoutConfig.freshTopic() : topic, publishers, inflight, io, threads,
                        subscribeTo, eventsPath, batch);
            } catch (IllegalArgumentException e) {
                throw client.usage(e.getMessage());
            }
            // As `serve` does: Netty's sampled leak tracking takes a stack trace per 128 buffers, ~1 % of the
            // reader's CPU in a held SSE fan-out. The tests keep it on; -Dio.netty.leakDetection.level turns it on.
            if (System.getProperty("io.netty.leakDetection.level") == null) {
                ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
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

        @Option(names = "--claim-max", defaultValue = "1",
                description = {"Jobs a worker claims at once (max=N, 1-100) and completes concurrently before "
                        + "claiming again; 1 claims one job without max. Default: ${DEFAULT-VALUE}"})
        int claimMax;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per job. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--duration", defaultValue = "10s", converter = DurationConverter.class,
                description = "Measured time, after the warmup. Default: ${DEFAULT-VALUE}")
        Duration duration;

        @Option(names = "--warmup", defaultValue = "2s", converter = DurationConverter.class,
                description = "Time left out of the figures. Default: ${DEFAULT-VALUE}")
        Duration warmup;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (workers < 1 || submitters < 0 || size < 1 || claimMax < 1 || claimMax > 100) {
                throw client.usage("--workers and --size must be >= 1, --submitters >= 0, --claim-max 1-100");
            }
            JobsBenchmark.Config config = new JobsBenchmark.Config(client.server, workers,
                    submitters == 0 ? 2 * workers : submitters, claimMax, size, warmup, duration,
                    JobsBenchmark.Config.freshQueue());
            return BenchReport.print(new JobsBenchmark(config, spec.commandLine().getErr()).run(), json,
                    spec.commandLine().getOut());
        }
    }

    @Command(name = "groups",
            mixinStandardHelpOptions = true,
            description = {
                "Consumer groups: fills a fresh topic, then for each member count a fresh group's members fetch and "
                        + "acknowledge until every message is acknowledged. Measures messages/s.",
                "With --redis, the same runs drive a Redis stream directly (XREADGROUP, XACK) for comparison.",
                "Exit 0 when every message was acknowledged exactly once per group and nothing failed, 1 otherwise."})
    public static final class Groups implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--redis", paramLabel = "redis://HOST:PORT",
                description = "Also drive this Redis's streams the same way. Default: none")
        URI redis;

        @Option(names = "--members", defaultValue = "1,4,16", split = ",",
                description = "Member counts, one group each. Default: ${DEFAULT-VALUE}")
        List<Integer> members;

        @Option(names = "--members-on", split = ",", paramLabel = "URL",
                description = {"Nodes of one cluster on a shared engine (docs/cluster.md), comma-separated: the members "
                        + "of each group are spread over them, the topic is filled through --server. Default: all on "
                        + "--server"})
        List<URI> membersOn;

        @Option(names = "--messages", defaultValue = "100000",
                description = "Messages in the topic, each acknowledged once per group. Default: ${DEFAULT-VALUE}")
        int messages;

        @Option(names = "--batch", defaultValue = "100",
                description = "Messages one fetch (COUNT) takes, 1-1000. Default: ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (messages < 1 || batch < 1 || batch > 1000 || size < 2 || members.stream().anyMatch(m -> m < 1)) {
                throw client.usage("--messages and --members must be >= 1, --batch 1-1000, --size >= 2");
            }
            GroupsBenchmark.Config config = new GroupsBenchmark.Config(client.server,
                    membersOn == null ? List.of(client.server) : membersOn, redis, members, messages, batch, size);
            return BenchReport.print(new GroupsBenchmark(config, spec.commandLine().getErr()).run(), json,
                    spec.commandLine().getOut());
        }
    }

    @Command(name = "durable",
            mixinStandardHelpOptions = true,
            description = {
                "Durable publish, closed loop: each publisher connection sends one message and waits for the "
                        + "acknowledgement that it is stored before the next. Measures acked msgs/s and "
                        + "publish-to-ack latency.",
                "Switchboard: POST to a fresh topic (run the server with --fsync always); redis: XADD to a stream "
                        + "(appendfsync always); nats: JetStream publish to a file-storage stream it creates.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Durable implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--target", defaultValue = "switchboard", converter = TargetConverter.class,
                description = {"What to drive: switchboard, redis (XADD) or nats (JetStream). Default: ${DEFAULT-VALUE}",
                        "A peer needs --server redis://HOST:PORT or nats://HOST:PORT (default: its standard port on 127.0.0.1)."})
        Target target;

        @Option(names = "--publishers", defaultValue = "64",
                description = "Publisher connections, each with one publish in flight. Default: ${DEFAULT-VALUE}")
        int publishers;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per message. Default: ${DEFAULT-VALUE}")
        int size;

        @Mixin
        Timing timing;

        @Mixin
        WorkloadOptions workload;

        @Override
        public Integer call() throws Exception {
            return workload.run(client, () -> new DurableBenchmark.Config(target,
                    BenchOptions.server(spec, client, target), publishers, size, timing.warmup, timing.duration,
                    workload.io, workload.threads, FanoutConfig.freshTopic()),
                    (config, err) -> new DurableBenchmark(config, err).run());
        }
    }

    @Command(name = "idle",
            mixinStandardHelpOptions = true,
            description = {
                "Idle subscribers: opens N connections subscribed to one topic, holds them, and reads the server's "
                        + "memory (VmRSS of --server-pid) before and after; then publishes one message that every "
                        + "connection must receive, and reads the memory once more.",
                "Switchboard: WebSocket; redis: SUBSCRIBE; nats: SUB. Any dropped connection is an error.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Idle implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--target", defaultValue = "switchboard", converter = TargetConverter.class,
                description = {"What to drive: switchboard (WebSocket), redis (SUBSCRIBE) or nats (SUB). Default: ${DEFAULT-VALUE}",
                        "A peer needs --server redis://HOST:PORT or nats://HOST:PORT (default: its standard port on 127.0.0.1)."})
        Target target;

        @Option(names = "--connections", defaultValue = "15000",
                description = "Subscriber connections, opened at most 500 at a time. Default: ${DEFAULT-VALUE}")
        int connections;

        @Option(names = "--hold", defaultValue = "30s", converter = DurationConverter.class,
                description = "How long to hold them once all are subscribed. Default: ${DEFAULT-VALUE}")
        Duration hold;

        @Mixin
        ServerPid serverPid;

        @Mixin
        WorkloadOptions workload;

        @Override
        public Integer call() throws Exception {
            return workload.run(client, () -> new IdleBenchmark.Config(target,
                    BenchOptions.server(spec, client, target), connections, hold, serverPid.pid, workload.io,
                    workload.threads, FanoutConfig.freshTopic()),
                    (config, err) -> new IdleBenchmark(config, err).run());
        }
    }

    @Command(name = "stalled",
            mixinStandardHelpOptions = true,
            description = {
                "Stalled readers (Switchboard only): opens N WebSocket subscribers on one fresh topic that stop "
                        + "reading once subscribed (--stalled=false: a control run that reads everything), publishes "
                        + "--bytes in --size-byte messages over HTTP, and reads the server's memory (VmRSS and VmHWM "
                        + "of --server-pid) before subscribing, once subscribed, every 250 ms while publishing (the "
                        + "peak), after the last acknowledgement and after --settle.",
                "Subscribers the server closes meanwhile (its slow-consumer guard) are counted, not errors; a "
                        + "control subscriber must get every message once, in order.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Stalled implements Callable<Integer> {
        @Mixin
        ClientOptions client;

        @Option(names = "--subscribers", defaultValue = "50", description = "WebSocket subscribers. Default: ${DEFAULT-VALUE}")
        int subscribers;

        @Option(names = "--stalled", arity = "0..1", defaultValue = "true", fallbackValue = "true",
                description = "Whether the subscribers stop reading once subscribed; --stalled=false is the control run. "
                        + "Default: ${DEFAULT-VALUE}")
        boolean stalled;

        @Option(names = "--bytes", defaultValue = "200MB", converter = ByteSizeConverter.class,
                description = "Payload to publish, like 200MB or 64KB (binary units: 1KB = 1024 B), in whole "
                        + "messages of --size. Default: ${DEFAULT-VALUE}")
        long bytes;

        @Option(names = "--size", defaultValue = "1024", description = "Payload bytes per message. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--publishers", defaultValue = "4",
                description = "Publisher connections (HTTP/1.1 keep-alive). Default: ${DEFAULT-VALUE}")
        int publishers;

        @Option(names = "--inflight", defaultValue = "16",
                description = "Requests pipelined on each publisher connection. Default: ${DEFAULT-VALUE}")
        int inflight;

        @Option(names = "--settle", defaultValue = "10s", converter = DurationConverter.class,
                description = "After the last acknowledgement, how long to wait (readers still stalled) before the "
                        + "last memory reading. Default: ${DEFAULT-VALUE}")
        Duration settle;

        @Mixin
        ServerPid serverPid;

        @Mixin
        WorkloadOptions workload;

        @Override
        public Integer call() throws Exception {
            return workload.run(client, () -> new StalledBenchmark.Config(client.server, subscribers, stalled, bytes,
                    size, publishers, inflight, settle, serverPid.pid, workload.io, workload.threads,
                    FanoutConfig.freshTopic()), (config, err) -> new StalledBenchmark(config, err).run());
        }
    }

    @Command(name = "longpoll",
            mixinStandardHelpOptions = true,
            description = {
                "Long-poll wake-up: holds one long poll on each of N fresh topics (one connection each), then "
                        + "publishes one message to every topic. Measures publish-to-wake latency and checks each "
                        + "poll gets exactly its topic's message.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class LongPoll implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--polls", defaultValue = "10000",
                description = "Long polls, one per topic and connection. Default: ${DEFAULT-VALUE}")
        int polls;

        @Option(names = "--warmup-polls",
                description = {"Polls of an unmeasured round of the same kind, on other topics, before the measured one: "
                        + "it compiles the tool's answer path before the window; 0 = none. Default: as --polls"})
        Integer warmupPolls;

        @Option(names = "--wait", defaultValue = "30s", converter = DurationConverter.class,
                description = "wait= of each poll (at most the server's --max-wait); publishing must end within it. Default: ${DEFAULT-VALUE}")
        Duration wait;

        @Option(names = "--rate", defaultValue = "1000",
                description = {"Publishes per second over all publishers, one per topic; 0 = as fast as they are acknowledged. Default: ${DEFAULT-VALUE}",
                        "Paced, the latency is the server's wake-up path; at 0 it includes queueing behind the publishes in flight."})
        int rate;

        @Mixin
        WorkloadOptions workload;

        @Override
        public Integer call() throws Exception {
            return workload.run(client, () -> new LongPollBenchmark.Config(client.server, polls,
                    warmupPolls == null ? polls : warmupPolls, wait, rate, workload.io,
                    workload.threads, LongPollBenchmark.Config.freshPrefix()),
                    (config, err) -> new LongPollBenchmark(config, err).run());
        }
    }

    @Command(name = "request",
            mixinStandardHelpOptions = true,
            description = {
                "NATS request/reply with the official Java client (jnats): one responder echoes, --clients requesters "
                        + "each wait for every reply. Point --server at nats-server or at Switchboard's --nats-port "
                        + "(docs/nats.md) to compare them.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Request implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--server", defaultValue = "nats://127.0.0.1:4222",
                description = "A NATS server: nats-server, or Switchboard's NATS port. Default: ${DEFAULT-VALUE}")
        String server;

        @Option(names = "--clients", defaultValue = "4", description = "Requester connections. Default: ${DEFAULT-VALUE}")
        int clients;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes. Default: ${DEFAULT-VALUE}")
        int size;

        @Mixin
        Timing timing;

        @Option(names = "--server-pid", defaultValue = "-1",
                description = "The server's process id, to read its CPU time from /proc/PID/stat. Default: none")
        long serverPid;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (clients < 1 || size < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--clients must be >= 1, --size >= 0");
            }
            RequestBenchmark benchmark = new RequestBenchmark(new RequestBenchmark.Config(server, clients, size,
                    timing.warmup, timing.duration, serverPid), spec.commandLine().getErr());
            return BenchReport.print(benchmark.run(), json, spec.commandLine().getOut());
        }
    }

    @Command(name = "client",
            mixinStandardHelpOptions = true,
            description = {
                "The Java client library's own overhead: publish round trips/s one at a time and with --inflight "
                        + "async publishes outstanding, then msgs/s one subscription receives per transport (ws, sse, "
                        + "long poll) reading the published topic from its start.",
                "Exit 0 when the run saw no error, 1 otherwise."})
    public static final class Client implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--publishes", defaultValue = "5000", description = "Blocking publishes. Default: ${DEFAULT-VALUE}")
        int publishes;

        @Option(names = "--messages", defaultValue = "100000",
                description = "Async publishes, then messages each subscription reads. Default: ${DEFAULT-VALUE}")
        int messages;

        @Option(names = "--size", defaultValue = "64", description = "Payload bytes per message. Default: ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--inflight", defaultValue = "64", description = "Async publishes outstanding. Default: ${DEFAULT-VALUE}")
        int inflight;

        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ClientBenchmark.Config config;
            try {
                config = new ClientBenchmark.Config(client.base(), publishes, messages, size, inflight);
            } catch (IllegalArgumentException e) {
                throw client.usage(e.getMessage());
            }
            return BenchReport.print(new ClientBenchmark(config, spec.commandLine().getErr()).run(), json,
                    spec.commandLine().getOut());
        }
    }
}
