package dev.switchboard.codec;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.switchboard.broker.Message;
import dev.switchboard.wire.Payloads;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The message envelope of docs/api.md: {@code {"topic","offset","time","type","headers","data"}} (headers only when
 * the message has some) where {@code data} is the payload as
 * a JSON value when the type is JSON, a string when it is UTF-8 text, else base64 with {@code "encoding":"base64"}.
 * Shared by every transport that sends envelopes (polls, WebSocket, SSE streams in envelope format).
 */
public final class Envelope {
    private static final byte[] OP = JsonBytes.ascii("\"op\":");
    private static final byte[] TOPIC = JsonBytes.ascii("\"topic\":");
    private static final byte[] OFFSET = JsonBytes.ascii(",\"offset\":");
    private static final byte[] TIME = JsonBytes.ascii(",\"time\":");
    private static final byte[] TYPE = JsonBytes.ascii(",\"type\":");
    private static final byte[] HEADERS = JsonBytes.ascii(",\"headers\":{");
    private static final byte[] DATA = JsonBytes.ascii(",\"data\":");
    private static final byte[] BASE64 = JsonBytes.ascii(",\"encoding\":\"base64\"");

    private Envelope() {}

    /** A string as a JSON string literal. */
    public static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        out.append(JsonStringEncoder.getInstance().quoteAsString(s));
        return out.append('"').toString();
    }

    /**
     * Writes the envelope's fields (without the enclosing braces) so callers can add their own, like {@code op}: the
     * bytes Jackson's generator would write (PollAnswerBytesTest compares them), without its per-answer objects.
     */
    public static void writeFields(JsonBytes w, Message m) {
        w.raw(TOPIC).string(m.topic()).raw(OFFSET).number(m.offset())
                .raw(TIME).time(m.time()).raw(TYPE).string(m.type());
        Map<String, List<String>> headers = m.headers();
        if (!headers.isEmpty()) {
            w.raw(HEADERS);
            boolean first = true;
            for (Map.Entry<String, List<String>> h : headers.entrySet()) {
                if (!first) {
                    w.raw((byte) ',');
                }
                first = false;
                w.string(h.getKey()).raw((byte) ':').raw((byte) '[');
                List<String> values = h.getValue();
                for (int i = 0; i < values.size(); i++) {
                    if (i > 0) {
                        w.raw((byte) ',');
                    }
                    w.string(values.get(i));
                }
                w.raw((byte) ']');
            }
            w.raw((byte) '}');
        }
        byte[] payload = m.payload();
        w.raw(DATA);
        switch (Payloads.formOf(m.type(), payload)) {
            case JSON -> w.raw(payload);
            case TEXT -> w.utf8String(payload);
            case BASE64 -> w.raw((byte) '"').raw(Base64.getEncoder().encode(payload)).raw((byte) '"').raw(BASE64);
        }
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
        JsonBytes w = JsonBytes.scratch().raw((byte) '{');
        if (op != null) {
            w.raw(OP).string(op).raw((byte) ',');
        }
        writeFields(w, m);
        return w.raw((byte) '}').toArray();
    }
}
