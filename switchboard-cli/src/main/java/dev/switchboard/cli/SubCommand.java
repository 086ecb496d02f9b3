package dev.switchboard.cli;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code switchboard sub TOPIC}: prints a topic's messages, one per line, resuming across reconnects. */
@Command(name = "sub", mixinStandardHelpOptions = true,
        description = {"Print a topic's messages, one per line, as they arrive.",
                "A lost connection is resumed after the last printed offset: nothing lost, nothing printed twice.",
                "A payload with line breaks spans several lines; --envelope prints exactly one line per message."})
public final class SubCommand implements Callable<Integer> {

    /** The constant names are the option's values. */
    enum Via { ws, sse, poll }

    @Mixin
    ClientOptions client;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;

    @Option(names = "--from", defaultValue = "next", paramLabel = "next|earliest|N", converter = FromConverter.class,
            description = "Where to start: next (new messages only), earliest (oldest retained) or an offset. Default: ${DEFAULT-VALUE}")
    From from;

    @Option(names = "--via", defaultValue = "ws", paramLabel = "ws|sse|poll",
            description = "Transport: WebSocket, server-sent events or long polling. Default: ${DEFAULT-VALUE}")
    Via via;

    @Option(names = "--count", paramLabel = "N", description = "Exit after N messages. Default: never")
    Long count;

    @Option(names = "--wait", defaultValue = "30s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long one long poll may wait (--via poll): 500ms, 30s, 2m. Default: ${DEFAULT-VALUE}")
    Duration wait;

    @Option(names = "--failover", split = ",", paramLabel = "URL",
            description = "Other nodes of the same cluster (docs/cluster.md), comma-separated: when a connection ends, the next node is tried, from the same offset. Default: none")
    List<URI> failover = List.of();

    @Option(names = "--envelope",
            description = "Print each message's JSON envelope instead of its payload (with sse only topic, offset and data are known).")
    boolean envelope;

    @Override
    public Integer call() throws InterruptedException {
        if (count != null && count < 1) {
            throw client.usage("--count must be at least 1");
        }
        List<Urls> nodes = new ArrayList<>(List.of(client.urls()));
        for (URI node : failover) {
            try {
                nodes.add(Urls.of(node));
            } catch (IllegalArgumentException e) {
                throw client.usage("--failover: " + e.getMessage());
            }
        }
        SubscriberLoop loop = new SubscriberLoop(from, count == null ? 0 : count, envelope, ClientOptions.stdout(),
                spec.commandLine().getErr());
        HttpClient http = Http.client();
        try {
            loop.run(new FailoverTransport(nodes.stream().map(urls -> switch (via) {
                case ws -> (SubscriberLoop.Transport) new WebSocketTransport(http, urls, topic);
                case sse -> new SseTransport(http, urls, topic);
                case poll -> new PollTransport(http, urls, topic, wait);
            }).toList()));
        } finally {
            // Not close(): that would wait for a stream we are walking away from.
            http.shutdownNow();
        }
        return 0;
    }

    static final class FromConverter implements CommandLine.ITypeConverter<From> {
        @Override
        public From convert(String value) {
            try {
                return From.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
