package dev.switchboard.stream;

import dev.switchboard.testing.SseParser;
import dev.switchboard.testing.SseParser.Event;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * An SSE reader over some real client (curl, the JDK HttpClient): a thread reads the body's bytes into an
 * {@link SseParser}, records every event and comment (with its arrival time) and notes when the stream ends.
 */
abstract class SseClient implements AutoCloseable {
    /** A comment line and when it arrived. */
    record Comment(String text, long nanos) {}

    final List<Event> events = new CopyOnWriteArrayList<>();
    final List<Comment> comments = new CopyOnWriteArrayList<>();
    private final Consumer<Event> listener;
    private volatile boolean ended;
    private volatile Throwable failure;
    private Thread reader;

    SseClient(Consumer<Event> listener) {
        this.listener = listener;
    }

    /** Starts the reading thread on the body. */
    final void startReading(InputStream body, String name) {
        SseParser parser = new SseParser(e -> {
            events.add(e);
            listener.accept(e);
        }, c -> comments.add(new Comment(c, System.nanoTime())));
        reader = Thread.ofPlatform().daemon().name(name).start(() -> {
            byte[] buf = new byte[8192];
            try (body) {
                int n;
                while ((n = body.read(buf)) >= 0) {
                    parser.feed(buf, 0, n);
                }
            } catch (IOException e) {
                failure = e;
            } finally {
                ended = true;
            }
        });
    }

    /** Events of type {@code message}. */
    List<Event> messages() {
        return events.stream().filter(e -> e.type().equals("message")).toList();
    }

    List<Long> messageIds() {
        return messages().stream().map(e -> Long.parseLong(e.id())).toList();
    }

    /** The body ended (EOF, or a read error after the connection went away). */
    boolean ended() {
        return ended;
    }

    Throwable failure() {
        return failure;
    }

    /** Stops the client as a user would (kill curl, close the body); the reader thread then ends. */
    abstract void disconnect();

    @Override
    public void close() {
        disconnect();
        try {
            if (reader != null) {
                reader.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
