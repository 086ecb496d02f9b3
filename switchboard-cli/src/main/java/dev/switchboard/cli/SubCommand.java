package dev.switchboard.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.From;
import dev.switchboard.client.Gap;
import dev.switchboard.client.Message;
import dev.switchboard.client.MessageHandler;
import dev.switchboard.client.SubscribeOptions;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.Transport;
import dev.switchboard.wire.Payloads;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code switchboard sub TOPIC}: prints a topic's messages, one per line, through a library {@link Subscription}
 * (which resumes across reconnects with nothing lost or repeated).
 */
@Command(name = "sub", mixinStandardHelpOptions = true,
        description = {"Print a topic's messages, one per line, as they arrive.",
                "A lost connection is resumed after the last printed offset: nothing lost, nothing printed twice.",
                "A payload with line breaks spans several lines; --envelope prints exactly one line per message.",
                "With --group G, joins consumer group G instead (docs/groups.md): prints only the messages the group",
                "hands this member, acknowledging each once printed; the group's other members get the rest."})
public final class SubCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The constant names are the option's values. */
    enum Via {
        ws(Transport.WEBSOCKET), sse(Transport.SSE), poll(Transport.LONG_POLL);

        final Transport transport;

        Via(Transport transport) {
            this.transport = transport;
        }
    }

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

    @Option(names = "--group", paramLabel = "GROUP",
            description = "Join this consumer group: print a share of the topic's messages, each acknowledged after it is printed, starting from the group's position (not with --from or --via). Default: none")
    String group;

    @Option(names = "--envelope",
            description = "Print each message's JSON envelope (with its type, time and headers) instead of its payload.")
    boolean envelope;

    @Override
    public Integer call() throws InterruptedException {
        if (count != null && count < 1) {
            throw client.usage("--count must be at least 1");
        }
        PrintStream out = ClientOptions.stdout();
        PrintWriter err = spec.commandLine().getErr();
        SubscribeOptions options;
        try {
            options = SubscribeOptions.builder().transport(via.transport).pollWait(wait).onGap(gap -> say(err, gap)).build();
        } catch (IllegalArgumentException e) {
            throw client.usage(e.getMessage());
        }
        if (group != null && (spec.commandLine().getParseResult().hasMatchedOption("--from")
                || spec.commandLine().getParseResult().hasMatchedOption("--via"))) {
            throw client.usage("--group starts from the group's position over HTTP: --from and --via do not apply");
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        long[] printed = {0};
        MessageHandler print = m -> {
            if (count != null && printed[0] >= count) {
                if (group == null) {
                    return;
                }
                throw new IllegalStateException("past --count: not acknowledged, so the group delivers it again");
            }
            out.println(envelope ? envelope(m) : payload(m));
            out.flush();
            if (count != null && ++printed[0] == count) {
                done.complete(null);
            }
        };
        try (Switchboard switchboard = client.connect(new Warnings(err), failover);
             Subscription sub = group != null ? switchboard.subscribe(topic, group, print)
                     : switchboard.subscribe(topic, from, options, print)) {
            sub.closed().whenComplete((v, failure) -> {
                if (failure != null) {
                    done.completeExceptionally(failure);
                }
            });
            done.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        return 0;
    }

    private static void say(PrintWriter err, Gap gap) {
        err.println("switchboard: gap: offsets " + gap.from() + ".." + (gap.first() - 1) + " dropped by retention");
        err.flush();
    }

    /** Says the first failure of an outage, and nothing more until a connection works again. */
    private static final class Warnings implements ConnectionListener {
        private final PrintWriter err;
        private final AtomicBoolean warned = new AtomicBoolean();

        Warnings(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void connected(String topic, URI server) {
            warned.set(false);
        }

        @Override
        public void disconnected(String topic, URI server, Throwable cause) {
            if (warned.compareAndSet(false, true)) {
                err.println("switchboard: " + cause.getMessage() + "; reconnecting");
                err.flush();
            }
        }
    }

    /** Text as it is, JSON compact, anything else as base64: the payload on as few lines as it allows. */
    static String payload(Message m) {
        byte[] data = m.data();
        if (m.type() != null && Payloads.isJsonType(m.type())) {
            try {
                return JSON.readTree(data).toString();
            } catch (IOException e) {
                return m.text();
            }
        }
        return Payloads.isUtf8(data) ? m.text() : Base64.getEncoder().encodeToString(data);
    }

    /** docs/api.md's envelope on one line, with the message's headers when it has some. */
    static String envelope(Message m) {
        StringWriter text = new StringWriter();
        try (JsonGenerator g = JSON.getFactory().createGenerator(text)) {
            g.writeStartObject();
            g.writeStringField("topic", m.topic());
            g.writeNumberField("offset", m.offset());
            if (m.time() != null) {
                g.writeStringField("time", m.time());
            }
            if (m.type() != null) {
                g.writeStringField("type", m.type());
            }
            Payloads.writeHeaders(g, m.headers());
            if (m.type() != null) {
                Payloads.writeData(g, "data", "encoding", m.type(), m.data());
            } else {
                g.writeStringField("data", m.text());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing to a string cannot fail", e);
        }
        return text.toString();
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
