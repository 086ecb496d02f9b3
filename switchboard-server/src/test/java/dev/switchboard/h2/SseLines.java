package dev.switchboard.h2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** An SSE stream read by the JDK's HttpClient line by line on a thread of its own: the {@code data:} lines seen. */
final class SseLines implements AutoCloseable {
    final List<String> data = new CopyOnWriteArrayList<>();
    final HttpResponse<Stream<String>> response;
    private final Thread reader;

    private SseLines(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.reader = Thread.ofPlatform().daemon().name("sse-lines").start(() -> {
            try (Stream<String> lines = response.body()) {
                lines.filter(l -> l.startsWith("data:")).forEach(l -> data.add(l.substring(5).trim()));
            } catch (UncheckedIOException ignored) {
                // closed by the test
            }
        });
    }

    /** Opens the stream and waits for its head. */
    static SseLines open(HttpClient client, URI uri) {
        try {
            return new SseLines(client.send(HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").build(),
                    HttpResponse.BodyHandlers.ofLines()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static CompletableFuture<SseLines> openAsync(HttpClient client, URI uri) {
        return client.sendAsync(HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofLines()).thenApply(SseLines::new);
    }

    @Override
    public void close() {
        reader.interrupt();
        response.body().close();
    }
}
