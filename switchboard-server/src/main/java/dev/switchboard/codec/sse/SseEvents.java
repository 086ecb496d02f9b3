package dev.switchboard.codec.sse;

import dev.switchboard.broker.Message;
import dev.switchboard.codec.Envelope;
import dev.switchboard.jobs.JobService;
import dev.switchboard.wire.Payloads;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The Server-Sent Events wire form (WHATWG HTML, "server-sent events"). A message is
 * {@code id: <offset>\nevent: message\ndata: <line>\n…\n\n}: the payload split at CR, LF and CRLF into one
 * {@code data:} line each, so a client joining them with LF gets the payload back (with CRLF normalised). A payload
 * that is not UTF-8 is sent as one line of base64.
 */
public final class SseEvents {
    /** Where a message caches its event bytes, as a topic's and as a job's event. */
    static final int MESSAGE_SLOT = Message.newEncodingSlot();
    static final int JOB_EVENT_SLOT = Message.newEncodingSlot();
    static final int ENVELOPE_SLOT = Message.newEncodingSlot();
    private static final byte[] HEARTBEAT = ": heartbeat\n\n".getBytes(StandardCharsets.US_ASCII);

    private SseEvents() {}

    public static byte[] message(Message m) {
        byte[] payload = m.payload();
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 48);
        ascii(out, "id: " + m.offset() + "\nevent: message\n");
        if (Payloads.formOf(m.type(), m.payload()) == Payloads.DataForm.BASE64) {
            ascii(out, "data: ");
            ascii(out, Base64.getEncoder().encodeToString(payload));
            out.write('\n');
        } else {
            dataLines(out, payload);
        }
        out.write('\n');
        return out.toByteArray();
    }

    /**
     * A message in a stream's envelope format ({@code ?format=envelope}): {@code id: <offset>}, {@code event: message}
     * and the message envelope of docs/api.md (with its type, time and headers) as {@code data}. A JSON payload is
     * embedded as sent and may break lines between its tokens; they become {@code data:} lines like a payload's, so
     * the joined lines are the same JSON.
     */
    public static byte[] envelope(Message m) {
        byte[] envelope = Envelope.encode(m);
        ByteArrayOutputStream out = new ByteArrayOutputStream(envelope.length + 48);
        ascii(out, "id: " + m.offset() + "\nevent: message\n");
        dataLines(out, envelope);
        out.write('\n');
        return out.toByteArray();
    }

    /** The {@code id:} line of a stream's next event: its cursor, which {@code Last-Event-ID} sends back. */
    static byte[] id(String cursor) {
        return ("id: " + cursor + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Where an event's lines after its first ({@code id:}) start: a stream over many topics writes its own id. */
    static int afterIdLine(byte[] event) {
        int lf = 0;
        while (event[lf] != '\n') {
            lf++;
        }
        return lf + 1;
    }

    /** An error that ends one topic of a stream over many topics, not the stream. */
    static byte[] topicError(String topic, String code, String message) {
        return ("event: error\ndata: {\"code\":\"" + code + "\",\"topic\":\"" + topic + "\",\"message\":"
                + Envelope.quote(message) + "}\n\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A job change: {@code id: <version>}, {@code event: status|progress}, {@code data: <job JSON>}. The JSON is
     * split into {@code data:} lines like any payload: a JSON result is embedded as the worker sent it, and may hold
     * line breaks between its tokens (never inside a string), so the joined lines are the same JSON.
     */
    public static byte[] jobEvent(Message m) {
        String name = m.type().equals(JobService.PROGRESS_EVENT_TYPE) ? "progress" : "status";
        ByteArrayOutputStream out = new ByteArrayOutputStream(m.payload().length + 48);
        ascii(out, "id: " + m.offset() + "\nevent: " + name + "\n");
        dataLines(out, m.payload());
        out.write('\n');
        return out.toByteArray();
    }

    public static byte[] gap(String topic, long from, long first) {
        return ("event: gap\ndata: {\"topic\":\"" + topic + "\",\"from\":" + from + ",\"first\":" + first + "}\n\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] topicDeleted(String topic) {
        return ("event: error\ndata: {\"code\":\"topic_deleted\",\"message\":\"topic '" + topic
                + "' was deleted\"}\n\n").getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] tokenExpired() {
        return ("event: error\ndata: {\"code\":\"token_expired\",\"message\":\"the token has expired; reconnect with a"
                + " new one and Last-Event-ID\"}\n\n").getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] heartbeat() {
        return HEARTBEAT;
    }

    private static void dataLines(ByteArrayOutputStream out, byte[] payload) {
        int start = 0;
        int i = 0;
        while (i <= payload.length) {
            if (i == payload.length || payload[i] == '\n' || payload[i] == '\r') {
                ascii(out, "data: ");
                out.write(payload, start, i - start);
                out.write('\n');
                if (i < payload.length && payload[i] == '\r' && i + 1 < payload.length && payload[i + 1] == '\n') {
                    i++;
                }
                start = i + 1;
            }
            i++;
        }
    }

    private static void ascii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }
}
