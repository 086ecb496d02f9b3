package dev.switchboard.codec.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.Payloads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The body of a batch publish, split into its messages, each one JSON value: NDJSON (one per non-blank line, stored
 * as the line's text) or a JSON array (one per element, stored re-serialised compactly). Anything that is not valid
 * JSON refuses the whole batch, naming the line (from 1) or element (from 0) at fault.
 */
final class BatchBody {
    static final String NDJSON = "application/x-ndjson";
    /** The content type of a JSON array body, and of every message stored from a batch. */
    static final String JSON_TYPE = "application/json";
    private static final JsonFactory JSON = new JsonFactory();

    private BatchBody() {}

    /** The messages of a body of content type {@code type} (null when none was sent). */
    static List<byte[]> messages(String type, byte[] body) {
        String base = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return switch (base) {
            case NDJSON -> lines(body);
            case JSON_TYPE -> elements(body);
            default -> throw new UnsupportedMediaType(NDJSON + ", " + JSON_TYPE, "a batch is NDJSON (Content-Type: "
                    + NDJSON + ", a JSON value per line) or a JSON array (Content-Type: " + JSON_TYPE + "), not "
                    + (type == null ? "a body without a content type" : "'" + type + "'"));
        };
    }

    private static List<byte[]> lines(byte[] body) {
        List<byte[]> messages = new ArrayList<>();
        int number = 1;
        for (int start = 0; start < body.length; number++) {
            int end = start;
            while (end < body.length && body[end] != '\n') {
                end++;
            }
            int textEnd = end > start && body[end - 1] == '\r' ? end - 1 : end;
            if (!isBlank(body, start, textEnd)) {
                byte[] line = Arrays.copyOfRange(body, start, textEnd);
                Payloads.requireJson(line, "line " + number);
                messages.add(line);
            }
            start = end + 1;
        }
        return messages;
    }

    /** Only JSON's whitespace between {@code from} and {@code to}: a line that holds no message. */
    private static boolean isBlank(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != ' ' && bytes[i] != '\t' && bytes[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    private static List<byte[]> elements(byte[] body) {
        if (!Payloads.isUtf8(body)) {
            throw new ApiException(ErrorCode.INVALID_JSON, "the body is not valid UTF-8, which JSON must be");
        }
        List<byte[]> messages = new ArrayList<>();
        boolean inArray = false;
        // Parsed as text, as a single JSON publish is: no byte order mark skipped, no UTF-16 guessed.
        try (JsonParser p = JSON.createParser(new String(body, StandardCharsets.UTF_8))) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw notAnArray();
            }
            inArray = true;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                messages.add(compact(p));
            }
            inArray = false;
            if (p.nextToken() != null) {
                throw new ApiException(ErrorCode.INVALID_JSON, "the body has data after its JSON array");
            }
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_JSON, (inArray ? "element [" + messages.size() + "]"
                    : "the body") + " is not valid JSON: " + Payloads.reason(e));
        }
        return messages;
    }

    private static ApiException notAnArray() {
        return new ApiException(ErrorCode.INVALID_JSON, "the body must be a JSON array of messages (or NDJSON, sent as "
                + NDJSON + ")");
    }

    /** The value the parser is at, without insignificant whitespace; numbers keep their exact value. */
    private static byte[] compact(JsonParser p) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.copyCurrentStructureExact(p);
        }
        return out.toByteArray();
    }
}
