package dev.switchboard.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rules on payloads that server and clients share: which content types are JSON, what valid JSON and UTF-8 are, and
 * how a payload appears in a JSON {@code data} field (a JSON value, a string, or base64).
 */
public final class Payloads {
    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Payloads() {}

    /** How a payload is carried in a JSON {@code data} field. */
    public enum DataForm { JSON, TEXT, BASE64 }

    /** A formatted second, reused by every time within it: a busy server formats the same second thousands of times. */
    private record SecondText(long second, String prefix, byte[] prefixBytes) {}

    private static volatile SecondText lastSecond = new SecondText(Long.MIN_VALUE, "", new byte[0]);

    /** The length of every {@link #formatTime} text. */
    public static final int TIME_LENGTH = "2026-11-23T14:00:00.123Z".length();

    /** A time as the API writes it: UTC with milliseconds, {@code 2026-11-23T14:00:00.123Z}. */
    public static String formatTime(long millis) {
        int ms = (int) Math.floorMod(millis, 1000);
        return secondOf(millis).prefix() + (char) ('0' + ms / 100) + (char) ('0' + ms / 10 % 10)
                + (char) ('0' + ms % 10) + 'Z';
    }

    /**
     * Writes {@link #formatTime}'s text as ASCII into {@code dst} at {@code at}, without making the string (a
     * publish's answer); returns the index after it.
     */
    public static int writeTime(long millis, byte[] dst, int at) {
        byte[] prefix = secondOf(millis).prefixBytes();
        System.arraycopy(prefix, 0, dst, at, prefix.length);
        int i = at + prefix.length;
        int ms = (int) Math.floorMod(millis, 1000);
        dst[i++] = (byte) ('0' + ms / 100);
        dst[i++] = (byte) ('0' + ms / 10 % 10);
        dst[i++] = (byte) ('0' + ms % 10);
        dst[i++] = 'Z';
        return i;
    }

    private static SecondText secondOf(long millis) {
        long second = Math.floorDiv(millis, 1000);
        SecondText cached = lastSecond;
        if (cached.second() != second) {
            String whole = TIME.format(Instant.ofEpochSecond(second));
            String prefix = whole.substring(0, whole.length() - "000Z".length());
            cached = new SecondText(second, prefix, prefix.getBytes(StandardCharsets.US_ASCII));
            lastSecond = cached;
        }
        return cached;
    }

    public static DataForm formOf(String type, byte[] bytes) {
        if (isJsonType(type)) {
            return DataForm.JSON;
        }
        return isUtf8(bytes) ? DataForm.TEXT : DataForm.BASE64;
    }

    /** Writes an envelope's {@code "headers":{"Name":["value",…],…}}, nothing for no headers. */
    public static void writeHeaders(JsonGenerator g, Map<String, List<String>> headers) throws IOException {
        if (headers.isEmpty()) {
            return;
        }
        g.writeObjectFieldStart("headers");
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            g.writeArrayFieldStart(h.getKey());
            for (String value : h.getValue()) {
                g.writeString(value);
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    /**
     * Writes bytes of a content type as docs/api.md's {@code data}: a JSON value, a string, or base64 plus
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


    /** {@code application/json} or any {@code +json} type, parameters ignored. */
    public static boolean isJsonType(String type) {
        String base = type.toLowerCase(Locale.ROOT);
        int semicolon = base.indexOf(';');
        if (semicolon >= 0) {
            base = base.substring(0, semicolon);
        }
        base = base.trim();
        return base.equals("application/json") || base.endsWith("+json");
    }

    public static boolean isUtf8(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return decodes(bytes);
            }
        }
        return true; // ASCII, most payloads: no decoder and no copy per message written (~300 B each)
    }

    private static boolean decodes(byte[] bytes) {
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
        requireJson(payload, "the body");
    }

    /** As {@link #requireJson(byte[])}, naming the payload in the refusal as {@code what} (e.g. {@code "line 3"}). */
    public static void requireJson(byte[] payload, String what) {
        // JSON is UTF-8 (RFC 8259 section 8.1). Jackson lets some invalid sequences through inside strings (encoded
        // surrogates, overlong forms, code points above U+10FFFF); stored, they would go raw onto SSE streams.
        if (!isUtf8(payload)) {
            throw new ApiException(ErrorCode.INVALID_JSON, what + " is not valid UTF-8, which JSON must be");
        }
        // Parsed as UTF-8 text, because that is how it is embedded: on raw bytes Jackson would detect UTF-16/32 or
        // skip a byte order mark, and accept bodies that make every envelope carrying them invalid JSON.
        try (JsonParser p = JSON.createParser(new InputStreamReader(new ByteArrayInputStream(payload),
                StandardCharsets.UTF_8))) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new ApiException(ErrorCode.INVALID_JSON, what + " is empty but its type is JSON");
            }
            p.skipChildren();
            if (p.nextToken() != null) {
                throw new ApiException(ErrorCode.INVALID_JSON, what + " has data after its JSON value");
            }
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_JSON, what + " is not valid JSON: " + reason(e));
        }
    }

    /** What a JSON parser found wrong, without the location lines Jackson appends. */
    public static String reason(IOException e) {
        return e.getMessage().lines().findFirst().orElse("");
    }
}
