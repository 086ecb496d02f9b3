package dev.switchboard.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.switchboard.wire.Payloads;
import dev.switchboard.broker.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * The message envelope of API.md: {@code {"topic","offset","time","type","data"}} where {@code data} is the payload as
 * a JSON value when the type is JSON, a string when it is UTF-8 text, else base64 with {@code "encoding":"base64"}.
 * Shared by every transport that sends envelopes (polls, WebSocket).
 */
public final class Envelope {
    public static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Envelope() {}

    /** How a payload is carried in {@code data}. */
    public enum DataForm { JSON, TEXT, BASE64 }

    public static String formatTime(long millis) {
        return TIME.format(Instant.ofEpochMilli(millis));
    }

    public static DataForm formOf(Message m) {
        return formOf(m.type(), m.payload());
    }

    public static DataForm formOf(String type, byte[] bytes) {
        if (Payloads.isJsonType(type)) {
            return DataForm.JSON;
        }
        return Payloads.isUtf8(bytes) ? DataForm.TEXT : DataForm.BASE64;
    }

    /** Writes the envelope's fields (without the enclosing braces) so callers can add their own, like {@code op}. */
    public static void writeFields(JsonGenerator g, Message m) throws IOException {
        g.writeStringField("topic", m.topic());
        g.writeNumberField("offset", m.offset());
        g.writeStringField("time", formatTime(m.time()));
        g.writeStringField("type", m.type());
        writeData(g, "data", "encoding", m.type(), m.payload());
    }

    /**
     * Writes bytes of a content type as API.md's {@code data}: a JSON value, a string, or base64 plus
     * {@code encodingField: "base64"}. JSON bytes must have been validated when they were accepted.
     */
    public static void writeData(JsonGenerator g, String dataField, String encodingField, String type, byte[] bytes)
            throws IOException {
        switch (formOf(type, bytes)) {
            case JSON -> {
                g.writeFieldName(dataField);
                g.writeRawValue(new String(bytes, StandardCharsets.UTF_8));
            }
            case TEXT -> g.writeStringField(dataField, new String(bytes, StandardCharsets.UTF_8));
            case BASE64 -> {
                g.writeStringField(dataField, Base64.getEncoder().encodeToString(bytes));
                g.writeStringField(encodingField, "base64");
            }
        }
    }

    /** {@code {"op":"message", …envelope}} as UTF-8 bytes: the WebSocket form of a message. */
    public static byte[] encodeWithOp(Message m, String op) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128 + m.payload().length * 4 / 3);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("op", op);
            writeFields(g, m);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
