package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.wire.SseEvent;
import dev.switchboard.wire.SseParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code switchboard top}: the dashboard's view in a terminal, redrawn with each snapshot of
 * {@code GET /v1/admin/stream}: connections with the kernel's columns, topics with their publish rate, stage timing.
 * On a terminal the screen is cleared before each frame; otherwise frames follow each other, a blank line apart.
 * Once it has drawn a frame, a lost connection is retried (250 ms doubling to 5 s) until the server is back.
 */
@Command(name = "top", mixinStandardHelpOptions = true,
        description = "Show the server's connections (with the kernel's view), topics and stage timing, refreshing.")
public final class TopCommand implements Callable<Integer> {
    private static final int MAX_EVENT_BYTES = 64 * 1024 * 1024;
    private static final String CLEAR = "\033[H\033[2J";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration FIRST_RETRY = Duration.ofMillis(250);
    private static final Duration LAST_RETRY = Duration.ofSeconds(5);
    private static final int ERROR_BYTES = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    ClientOptions client;

    @Option(names = "--interval", defaultValue = "1s", converter = DurationConverter.class,
            description = "Time between refreshes, 250ms-1m. Default: ${DEFAULT-VALUE}")
    Duration interval;

    @Option(names = "--rows", defaultValue = "20", description = "Connections and topics shown, at most. Default: ${DEFAULT-VALUE}")
    int rows;

    @Option(names = "--count", defaultValue = "0", description = "Exit 0 after N frames; 0 = until stopped. Default: ${DEFAULT-VALUE}")
    int count;

    private final Map<String, Long> lastOffsets = new HashMap<>();
    private Instant lastTime;
    private int frames;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (interval.compareTo(Duration.ofMillis(250)) < 0 || interval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw client.usage("--interval must be 250ms-1m");
        }
        if (rows < 1 || count < 0) {
            throw client.usage("--rows must be >= 1 and --count >= 0");
        }
        PrintStream out = ClientOptions.stdout();
        boolean terminal = System.console() != null;
        URI stream = URI.create(client.base() + "/v1/admin/stream?interval=" + interval.toMillis() + "ms&limit=" + rows);
        HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        Duration backoff = FIRST_RETRY;
        while (true) {
            int before = frames;
            try {
                follow(http, stream, out, terminal);
                if (count > 0 && frames >= count) {
                    return 0;
                }
                lost("the server ended the stream", backoff);
            } catch (Refused e) {
                throw e;
            } catch (IOException e) {
                if (frames == 0) {
                    // Nothing was ever shown: a wrong URL or a stopped server is a mistake to report, not to wait out.
                    throw e instanceof ConnectException ? new IOException("cannot connect to " + client.base(), e) : e;
                }
                lost(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), backoff);
            }
            Thread.sleep(backoff.toMillis());
            backoff = frames > before ? FIRST_RETRY : min(backoff.multipliedBy(2), LAST_RETRY);
        }
    }

    /** A server restart or a network blip leaves the last frame on screen and says below it that top is retrying. */
    private void lost(String why, Duration retry) {
        System.err.println("switchboard top: lost " + client.base() + " (" + why + "); reconnecting in "
                + retry.toMillis() + " ms");
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Draws frames until the stream ends, {@link #count} frames are drawn, or the connection fails. */
    private void follow(HttpClient http, URI stream, PrintStream out, boolean terminal)
            throws IOException, InterruptedException {
        HttpRequest.Builder builder = HttpRequest.newBuilder(stream).header("Accept", "text/event-stream");
        String token = client.token();
        if (token != null) {
            builder.header("Authorization", "Bearer " + token); // the admin stream needs admin rights under --auth jwt
        }
        HttpResponse<InputStream> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                String answer = new String(body.readNBytes(ERROR_BYTES), StandardCharsets.UTF_8).strip();
                throw new Refused("the server answered " + response.statusCode() + ": " + answer);
            }
            SseParser parser = new SseParser(MAX_EVENT_BYTES, event -> onEvent(event, out, terminal));
            byte[] buffer = new byte[16384];
            for (int n; (n = body.read(buffer)) >= 0; ) {
                parser.feed(buffer, 0, n);
                if (count > 0 && frames >= count) {
                    return;
                }
            }
        }
    }

    /** The server answered but refused the stream (no admin rights, say): retrying would not change its mind. */
    private static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    private void onEvent(SseEvent event, PrintStream out, boolean terminal) {
        if (!event.type().equals("snapshot") || (count > 0 && frames >= count)) {
            return;
        }
        JsonNode s;
        try {
            s = JSON.readTree(event.data());
        } catch (IOException e) {
            throw new UncheckedIOException("the server sent a snapshot that is not JSON", e);
        }
        StringBuilder screen = new StringBuilder(terminal ? CLEAR : (frames > 0 ? "\n" : ""));
        render(s, screen);
        out.print(screen);
        out.flush();
        frames++;
    }

    private void render(JsonNode s, StringBuilder b) {
        b.append(String.format("switchboard top  %s  %s  %d connections  %d topics  %s%n%n", client.base(),
                s.path("engine").asText(), s.path("total").asInt(), s.path("topics").size(), s.path("time").asText()));
        b.append(String.format("%6s %-9s %-22s %-24s %7s %7s %9s %9s %8s %8s %8s %7s %6s %5s %4s%n", "ID", "TRANSPORT",
                "REMOTE", "SUBSCRIPTIONS", "MSG-IN", "MSG-OUT", "BYTES-IN", "BYTES-OUT", "QUEUED", "SEND-Q", "RECV-Q",
                "RTT-MS", "CWND", "RETR", "NDLY"));
        for (JsonNode c : s.path("connections")) {
            JsonNode k = c.path("kernel");
            StringBuilder subs = new StringBuilder();
            for (JsonNode sub : c.path("subscriptions")) {
                subs.append(subs.isEmpty() ? "" : ",").append(sub.path("topic").asText()).append('@')
                        .append(sub.path("next").asLong());
                if (sub.path("lag").asLong() > 0) {
                    subs.append("+").append(sub.path("lag").asLong());
                }
            }
            b.append(String.format("%6d %-9s %-22s %-24s %7d %7d %9s %9s %8s %8s %8s %7s %6s %5s %4s%n",
                    c.path("id").asLong(), c.path("transport").asText(), c.path("remote").asText(), cut(subs, 24),
                    c.path("messagesIn").asLong(), c.path("messagesOut").asLong(), size(c.path("bytesIn")),
                    size(c.path("bytesOut")), size(c.path("queuedBytes")) + (c.path("writable").asBoolean() ? "" : "!"),
                    size(k.path("sendQueueBytes")), size(k.path("recvQueueBytes")),
                    k.path("rttMicros").isNumber() ? String.format("%.2f", k.path("rttMicros").asLong() / 1000.0) : "-",
                    orDash(k.path("cwnd")), orDash(k.path("totalRetransmits")),
                    k.path("tcpNoDelay").isBoolean() ? (k.path("tcpNoDelay").asBoolean() ? "on" : "off") : "-"));
        }
        Instant now = Instant.parse(s.path("time").asText());
        double seconds = lastTime == null ? 0 : Duration.between(lastTime, now).toMillis() / 1000.0;
        b.append(String.format("%n%-32s %10s %10s  %s%n", "TOPIC", "LAST", "MSGS/S", "SUBSCRIBERS"));
        int shown = 0;
        for (JsonNode t : s.path("topics")) {
            String name = t.path("topic").asText();
            long last = t.path("lastOffset").asLong();
            Long before = lastOffsets.put(name, last);
            if (shown++ < rows) {
                String rate = before == null || seconds <= 0 ? "-" : String.format("%.1f", (last - before) / seconds);
                StringBuilder subscribers = new StringBuilder();
                t.path("subscribers").properties().forEach(e -> subscribers.append(subscribers.isEmpty() ? "" : " ")
                        .append(e.getKey()).append(' ').append(e.getValue().asInt()));
                b.append(String.format("%-32s %10d %10s  %s%n", cut(new StringBuilder(name), 32), last, rate,
                        subscribers));
            }
        }
        lastTime = now;
        b.append(String.format("%n%-8s %10s %12s %12s   (one event in %d timed)%n", "STAGE", "SAMPLES", "MEAN",
                "MAX", s.path("stageSample").asInt()));
        s.path("stages").properties().forEach(e -> {
            JsonNode v = e.getValue();
            long n = v.path("count").asLong();
            b.append(String.format("%-8s %10d %12s %12s%n", e.getKey(), n,
                    n == 0 ? "-" : time(v.path("totalSeconds").asDouble() / n),
                    n == 0 ? "-" : time(v.path("maxSeconds").asDouble())));
        });
    }

    private static String cut(StringBuilder text, int width) {
        return text.length() <= width ? text.toString() : text.substring(0, width - 1) + "…";
    }

    private static String orDash(JsonNode n) {
        return n.isNumber() ? n.asText() : "-";
    }

    private static String size(JsonNode n) {
        if (!n.isNumber()) {
            return "-";
        }
        long v = n.asLong();
        if (v < 10 * 1024) {
            return v + "B";
        }
        if (v < 10L * 1024 * 1024) {
            return v / 1024 + "K";
        }
        return v / (1024 * 1024) + "M";
    }

    private static String time(double seconds) {
        if (seconds < 0.001) {
            return String.format("%.0fus", seconds * 1e6);
        }
        if (seconds < 1) {
            return String.format("%.2fms", seconds * 1e3);
        }
        return String.format("%.2fs", seconds);
    }
}
