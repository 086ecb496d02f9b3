package dev.switchboard.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.switchboard.broker.ApiException;
import dev.switchboard.broker.Message;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;

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

    public static boolean isJsonType(String type) {
        String base = type.toLowerCase(Locale.ROOT);
        int semicolon = base.indexOf(';');
        if (semicolon >= 0) {
            base = base.substring(0, semicolon);
        }
        base = base.trim();
        return base.equals("application/json") || base.endsWith("+json");
    }

    public static DataForm formOf(Message m) {
        return formOf(m.type(), m.payload());
    }

    public static DataForm formOf(String type, byte[] bytes) {
        if (isJsonType(type)) {
            return DataForm.JSON;
        }
        return isUtf8(bytes) ? DataForm.TEXT : DataForm.BASE64;
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

    public static boolean isUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /**
     * A payload published as JSON must be exactly one JSON value: it is embedded verbatim in every envelope, so invalid
     * JSON would break every reader's parse. Refused with 400 before anything is stored.
     */
    public static void requireJson(byte[] payload) {
        // JSON is UTF-8 (RFC 8259 section 8.1). Jackson lets some invalid sequences through inside strings (encoded
        // surrogates, overlong forms, code points above U+10FFFF); stored, they would go raw onto SSE streams.
        if (!isUtf8(payload)) {
            throw ApiException.badRequest("invalid_json", "the body is not valid UTF-8, which JSON must be");
        }
        // Parsed as UTF-8 text, because that is how it is embedded: on raw bytes Jackson would detect UTF-16/32 or
        // skip a byte order mark, and accept bodies that make every envelope carrying them invalid JSON.
        try (JsonParser p = JSON.createParser(new InputStreamReader(new ByteArrayInputStream(payload),
                StandardCharsets.UTF_8))) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw ApiException.badRequest("invalid_json", "the body is empty but its type is JSON");
            }
            p.skipChildren();
            if (p.nextToken() != null) {
                throw ApiException.badRequest("invalid_json", "the body has data after its JSON value");
            }
        } catch (IOException e) {
            throw ApiException.badRequest("invalid_json", "the body is not valid JSON: "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
