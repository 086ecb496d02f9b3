package dev.switchboard.cli;

import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.Switchboard;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code switchboard pub TOPIC [MESSAGE|-]}: publishes and prints each stored message's offset. */
@Command(name = "pub", mixinStandardHelpOptions = true,
        description = "Publish a message (or stdin) to a topic and print its offset.")
public final class PubCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;

    @Parameters(index = "1", arity = "0..1", paramLabel = "MESSAGE",
            description = "The message; '-' or nothing reads it from stdin.")
    String message;

    @Option(names = "--type", paramLabel = "CONTENT_TYPE",
            description = "Content type. Default: text/plain; charset=utf-8")
    String type;

    @Option(names = "--json", description = "Shorthand for --type application/json.")
    boolean json;

    @Option(names = "--key", paramLabel = "IDEMPOTENCY_KEY",
            description = "Idempotency-Key: publishing again with the same key stores nothing new. With --lines, line N uses KEY-N.")
    String key;

    @Option(names = "--lines",
            description = "Publish each line of stdin as its own message, in order, stopping at the first error.")
    boolean lines;

    @Override
    public Integer call() throws IOException {
        if (lines && !ClientOptions.readsStdin(message)) {
            throw client.usage("--lines reads stdin: give no MESSAGE, or '-'");
        }
        if (json && spec.commandLine().getParseResult().hasMatchedOption("--type")) {
            throw client.usage("--json and --type are mutually exclusive");
        }
        PrintStream out = ClientOptions.stdout();
        try (Switchboard switchboard = client.connect(new ConnectionListener() {})) {
            if (lines) {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                long n = 0;
                for (String line; (line = in.readLine()) != null; ) {
                    n++;
                    out.println(publish(switchboard, line.getBytes(StandardCharsets.UTF_8), key == null ? null : key + "-" + n));
                }
            } else {
                out.println(publish(switchboard, ClientOptions.argumentOrStdin(message), key));
            }
        }
        return 0;
    }

    private long publish(Switchboard switchboard, byte[] body, String idempotencyKey) {
        return switchboard.publish(topic, body, contentType(), idempotencyKey).offset();
    }

    private String contentType() {
        if (json) {
            return "application/json"; // wins over a SWITCHBOARD_TYPE default; a --type flag was refused above
        }
        return type != null ? type : "text/plain; charset=utf-8";
    }
}
