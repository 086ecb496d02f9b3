package dev.switchboard.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.wire.SseParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/** The jobs HTTP API from the client side, over the JDK HTTP client (HTTP/1.1, the server's protocol). */
final class JobsClient implements AutoCloseable {
    static final String LEASE_TOKEN = "Lease-Token";
    /** A job event carries the job JSON, whose inline result (≤ 64 KiB) may grow ~6× when escaped. */
    private static final int MAX_EVENT_BYTES = 4 << 20;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Added to a server-side wait so the answer to a long poll is not cut off by the client. */
    private static final Duration WAIT_MARGIN = Duration.ofSeconds(15);
    private static final Duration RECONNECT_FOR = Duration.ofSeconds(60);

    record Answer(int status, byte[] body) {
        JsonNode json() {
            try {
                return Http.JSON.readTree(body);
            } catch (IOException e) {
                throw new ServerError(status, "bad_response", "the server answered with invalid JSON");
            }
        }
    }

    private final String base;
    private final HttpClient http;
    private final ClientOptions options;

    JobsClient(ClientOptions options) {
        this.options = options;
        this.base = options.base();
        this.http = Http.client(CONNECT_TIMEOUT);
    }

    String base() {
        return base;
    }

    HttpRequest.Builder request(String path) {
        return options.authorized(HttpRequest.newBuilder(URI.create(base + path))).timeout(Http.REQUEST_TIMEOUT);
    }

    /** Sends and reads the whole answer; an unreachable server is an IOException that says so. */
    Answer send(HttpRequest request) throws IOException, InterruptedException {
        try {
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** Like {@link #send} but without blocking, so a waiting claim can be abandoned by cancelling it. */
    CompletableFuture<HttpResponse<byte[]>> sendAsync(HttpRequest request) {
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Any I/O failure of a jobs request counts as not reaching the server, named as {@code --server} gave it. */
    IOException unreachable(IOException e) {
        return Http.unreachable(base, e);
    }

    /** The answer if its status is one of {@code ok}, otherwise the server's error. */
    static Answer expect(Answer a, int... ok) {
        if (Arrays.stream(ok).anyMatch(s -> s == a.status())) {
            return a;
        }
        throw ServerError.of(a.status(), a.body());
    }

    static Duration withMargin(Duration wait) {
        return wait.plus(WAIT_MARGIN);
    }

    JsonNode job(String id) throws IOException, InterruptedException {
        return expect(send(request("/v1/jobs/" + Urls.pathSegment(id)).GET().build()), 200).json();
    }

    /** Copies the result bytes of a succeeded job to {@code out}. */
    void copyResult(String id, OutputStream out) throws IOException, InterruptedException {
        HttpRequest req = request("/v1/jobs/" + Urls.pathSegment(id) + "/result").timeout(Duration.ofMinutes(5)).GET().build();
        HttpResponse<InputStream> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(e);
        }
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw ServerError.of(r.statusCode(), in.readAllBytes());
            }
            in.transferTo(out);
        }
        out.flush();
    }

    /** Receives each change of a followed job, and notices about the connection. */
    interface JobListener {
        void onChange(JsonNode job);

        void onNotice(String text);
    }

    /**
     * Follows {@code GET /v1/jobs/{id}/events} until the job is finished and returns its last state. A stream that
     * drops before that is resumed with {@code Last-Event-ID}, retrying for up to a minute of failed reconnects.
     */
    JsonNode follow(String id, JobListener listener) throws IOException, InterruptedException {
        String[] lastId = {null};
        JsonNode[] finished = {null};
        Backoff backoff = backoff();
        boolean connected = false;
        long failingSince = 0;
        while (true) {
            HttpRequest.Builder req = options.authorized(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/"
                    + Urls.pathSegment(id) + "/events"))).header("Accept", "text/event-stream").GET();
            if (lastId[0] != null) {
                req.header("Last-Event-ID", lastId[0]);
            }
            try {
                HttpResponse<InputStream> r = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = r.body()) {
                    if (r.statusCode() != 200) {
                        ServerError e = ServerError.of(r.statusCode(), in.readAllBytes());
                        if (r.statusCode() < 500) {
                            throw e;
                        }
                        throw new IOException(e.getMessage());
                    }
                    connected = true;
                    failingSince = 0;
                    backoff.reset();
                    SseParser parser = new SseParser(MAX_EVENT_BYTES, ev -> {
                        if (ev.typeIs("error")) {
                            JsonNode e = parse(ev.data());
                            throw new ServerError(0, e.path("code").asText("stream_error"), e.path("message").asText(""));
                        }
                        if (ev.typeIs("status") || ev.typeIs("progress")) {
                            lastId[0] = ev.id();
                            JsonNode job = parse(ev.data());
                            listener.onChange(job);
                            if (isTerminal(job)) {
                                finished[0] = job;
                            }
                        }
                    });
                    byte[] buf = new byte[16384];
                    for (int n; finished[0] == null && (n = in.read(buf)) >= 0; ) {
                        parser.feed(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                if (!connected) {
                    throw unreachable(e);
                }
            }
            if (finished[0] != null) {
                return finished[0];
            }
            long now = System.nanoTime();
            if (failingSince == 0) {
                failingSince = now;
                listener.onNotice("connection lost; reconnecting");
            } else if (now - failingSince > RECONNECT_FOR.toNanos()) {
                throw new IOException("lost the connection to " + base + " and could not reconnect for "
                        + RECONNECT_FOR.toSeconds() + "s");
            }
            Thread.sleep(backoff.next());
        }
    }

    static boolean isTerminal(JsonNode job) {
        return switch (job.path("status").asText()) {
            case "succeeded", "failed", "cancelled" -> true;
            default -> false;
        };
    }

    private static JsonNode parse(String json) {
        try {
            return Http.JSON.readTree(json);
        } catch (IOException e) {
            throw new ServerError(0, "bad_response", "an event's data is not valid JSON");
        }
    }

    /**
     * A data field as the bytes it stands for: base64 decoded when {@code encodingField} says so, a string's
     * UTF-8, or a JSON value's exact text sliced from {@code raw} (the whole answer), so JSON arrives byte for byte
     * as it was sent rather than re-serialized.
     */
    static byte[] dataBytes(byte[] raw, String dataField, String encodingField) throws IOException {
        byte[] json = null;
        String text = null;
        boolean base64 = false;
        try (JsonParser p = Http.JSON.getFactory().createParser(raw)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("expected a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals(dataField)) {
                    if (value == JsonToken.VALUE_STRING) {
                        text = p.getText();
                    } else {
                        int start = (int) p.currentTokenLocation().getByteOffset();
                        p.skipChildren();
                        int end = (int) p.currentLocation().getByteOffset();
                        json = Arrays.copyOfRange(raw, start, end);
                    }
                } else {
                    if (field.equals(encodingField)) {
                        base64 = "base64".equals(p.getValueAsString());
                    }
                    p.skipChildren();
                }
            }
        }
        if (json != null) {
            return json;
        }
        if (text == null) {
            return new byte[0];
        }
        return base64 ? Base64.getDecoder().decode(text) : text.getBytes(StandardCharsets.UTF_8);
    }

    /** Retry delays of the jobs commands: 200 ms doubling to 5 s. */
    static Backoff backoff() {
        return new Backoff(200, 5000);
    }

    /** Abandons requests still under way (a held claim, a stream) rather than waiting for them. */
    @Override
    public void close() {
        http.shutdownNow();
    }
}
