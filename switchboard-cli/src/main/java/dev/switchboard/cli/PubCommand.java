package dev.switchboard.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
    public Integer call() throws IOException, InterruptedException {
        if (lines && !ClientOptions.readsStdin(message)) {
            throw client.usage("--lines reads stdin: give no MESSAGE, or '-'");
        }
        if (json && spec.commandLine().getParseResult().hasMatchedOption("--type")) {
            throw client.usage("--json and --type are mutually exclusive");
        }
        URI uri = client.urls().messages(topic);
        PrintStream out = ClientOptions.stdout();
        try (HttpClient http = Http.client()) {
            if (lines) {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                long n = 0;
                for (String line; (line = in.readLine()) != null; ) {
                    n++;
                    out.println(publish(http, uri, line.getBytes(StandardCharsets.UTF_8), key == null ? null : key + "-" + n));
                }
            } else {
                out.println(publish(http, uri, ClientOptions.argumentOrStdin(message), key));
            }
        }
        return 0;
    }

    private long publish(HttpClient http, URI uri, byte[] body, String idempotencyKey) throws IOException, InterruptedException {
        HttpRequest.Builder request = client.authorized(HttpRequest.newBuilder(uri))
                .timeout(Http.REQUEST_TIMEOUT)
                .header("Content-Type", contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        HttpResponse<byte[]> response = Http.send(http, request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() / 100 != 2) {
            throw ServerError.of(response.statusCode(), response.body());
        }
        var offset = Http.JSON.readTree(response.body()).path("offset");
        if (!offset.isIntegralNumber()) {
            throw new ServerError(response.statusCode(), "protocol", "publish reply has no offset: " + new String(response.body(), StandardCharsets.UTF_8));
        }
        return offset.longValue();
    }

    private String contentType() {
        if (json) {
            return "application/json"; // wins over a SWITCHBOARD_TYPE default; a --type flag was refused above
        }
        return type != null ? type : "text/plain; charset=utf-8";
    }
}
