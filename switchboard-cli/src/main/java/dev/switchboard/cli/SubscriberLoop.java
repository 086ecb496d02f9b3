package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;

/**
 * Keeps one topic subscription alive across connections and prints what arrives, one message per line.
 *
 * <p>Steps: (1) a {@link Transport} connects from {@link #position()} and reports messages, gaps and
 * the resolved {@code next}; (2) when the connection ends, wait (100 ms, doubling up to 2 s, back to
 * 100 ms once a connection succeeds) and connect again from the offset after the last one printed.
 * Offsets at or below the last printed one are dropped, so a redelivery after a reconnect is never
 * printed twice. It ends after {@code count} messages (0: never), or with a {@link ServerError}.
 *
 * <p>Threads: a transport may call in from its own threads, one call at a time; {@code run} reads
 * the state only after the transport's {@code stream} has returned or thrown.
 */
final class SubscriberLoop {

    /** One way to read a topic: WebSocket, SSE or long polling. */
    interface Transport {
        /**
         * Reads from {@code loop.position()} and reports to the loop until it is {@link #done()}.
         * Throws IOException when the connection ends (it will be resumed), {@link ServerError} when
         * reconnecting cannot help.
         */
        void stream(SubscriberLoop loop) throws IOException, InterruptedException;
    }


    private final long count;
    private final boolean envelope;
    private final PrintStream out;
    private final PrintWriter err;
    private From position;
    private long last; // offsets start at 1, so 0 means nothing printed yet
    private long printed;
    private final Backoff backoff = new Backoff(100, 2000);
    private boolean warned;

    SubscriberLoop(From from, long count, boolean envelope, PrintStream out, PrintWriter err) {
        this.position = from;
        this.count = count;
        this.envelope = envelope;
        this.out = out;
        this.err = err;
    }

    void run(Transport transport) throws InterruptedException {
        while (!done()) {
            try {
                transport.stream(this);
            } catch (IOException e) {
                if (!warned) {
                    err.println("switchboard: " + Http.describe(e) + "; reconnecting (from=" + position + ")");
                    err.flush();
                    warned = true;
                }
            }
            if (!done()) {
                Thread.sleep(backoff.next());
            }
        }
    }

    From position() {
        return position;
    }

    boolean done() {
        return count > 0 && printed >= count;
    }

    /** The connection works: the next failure is worth a warning and starts the backoff afresh. */
    void connected() {
        backoff.reset();
        warned = false;
    }

    /** The server resolved {@code next} to an offset: a reconnect must resume there, not at a later "next". */
    void subscribed(long next) {
        if (position.isNext()) {
            position = From.at(next);
        }
    }

    /** A poll's {@code next}: where the following request starts. */
    void moveTo(long next) {
        if (!position.isOffset() || next > position.offset()) {
            position = From.at(next);
        }
    }

    void gap(long from, long first) {
        err.println("switchboard: gap: offsets " + from + ".." + (first - 1) + " dropped by retention");
        err.flush();
        moveTo(first);
    }

    void message(ObjectNode envelope) {
        long offset = envelope.path("offset").asLong();
        if (done() || offset <= last) {
            return;
        }
        out.println(this.envelope ? envelope.toString() : payload(envelope));
        out.flush();
        last = offset;
        printed++;
        moveTo(offset + 1);
    }

    /** Text as it is, JSON compact, base64 as the base64 string: the envelope's {@code data} on one line. */
    static String payload(JsonNode envelope) {
        JsonNode data = envelope.path("data");
        if (data.isMissingNode()) {
            return "";
        }
        return data.isTextual() ? data.textValue() : data.toString();
    }
}
