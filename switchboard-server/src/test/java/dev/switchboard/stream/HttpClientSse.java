package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.SseParser.Event;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** An SSE stream read with the JDK HttpClient, body as an InputStream. */
final class HttpClientSse extends SseClient {
    private final HttpResponse<InputStream> response;

    private HttpClientSse(HttpResponse<InputStream> response, Consumer<Event> listener) {
        super(listener);
        this.response = response;
    }

    static HttpClientSse open(HttpClient client, URI uri, String... headers) {
        return open(client, uri, e -> { }, headers);
    }

    /** Opens the stream and waits for the response head, which must be a 200 event stream. */
    static HttpClientSse open(HttpClient client, URI uri, Consumer<Event> listener, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(120)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        HttpResponse<InputStream> r;
        try {
            r = client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream()).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("SSE request to " + uri + " failed", e);
        }
        assertThat(r.statusCode()).as("SSE status of %s", uri).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/event-stream"));
        HttpClientSse c = new HttpClientSse(r, listener);
        c.startReading(r.body(), "httpclient-sse-reader");
        return c;
    }

    HttpResponse<InputStream> response() {
        return response;
    }

    @Override
    void disconnect() {
        try {
            response.body().close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
