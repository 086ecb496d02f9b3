package dev.switchboard.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.switchboard.broker.Message;
import dev.switchboard.wire.Payloads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The message envelope of docs/api.md: {@code {"topic","offset","time","type","headers","data"}} (headers only when
 * the message has some) where {@code data} is the payload as
 * a JSON value when the type is JSON, a string when it is UTF-8 text, else base64 with {@code "encoding":"base64"}.
 * Shared by every transport that sends envelopes (polls, WebSocket, SSE streams in envelope format).
 */
public final class Envelope {
    public static final JsonFactory JSON = new JsonFactory();

    private Envelope() {}

    /** Writes the envelope's fields (without the enclosing braces) so callers can add their own, like {@code op}. */
    public static void writeFields(JsonGenerator g, Message m) throws IOException {
        g.writeStringField("topic", m.topic());
        g.writeNumberField("offset", m.offset());
        g.writeStringField("time", Payloads.formatTime(m.time()));
        g.writeStringField("type", m.type());
        Payloads.writeHeaders(g, m.headers());
        Payloads.writeData(g, "data", "encoding", m.type(), m.payload());
    }

    /** A string as a JSON string literal. */
    public static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        out.append(JsonStringEncoder.getInstance().quoteAsString(s));
        return out.append('"').toString();
    }

    /** {@code {"op":"message", …envelope}} as UTF-8 bytes: the WebSocket form of a message. */
    public static byte[] encodeWithOp(Message m, String op) {
        return encode(m, op);
    }

    /** The envelope alone as UTF-8 bytes: an SSE stream's {@code data} in its envelope format. */
    public static byte[] encode(Message m) {
        return encode(m, null);
    }

    private static byte[] encode(Message m, String op) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128 + m.payload().length * 4 / 3);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            if (op != null) {
                g.writeStringField("op", op);
            }
            writeFields(g, m);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
