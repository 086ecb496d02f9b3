package dev.switchboard.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Rules on payloads that server and clients share: which content types are JSON, what valid JSON and UTF-8 are. */
public final class Payloads {
    private static final JsonFactory JSON = new JsonFactory();

    private Payloads() {}

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
            throw new ApiException(ErrorCode.INVALID_JSON, "the body is not valid UTF-8, which JSON must be");
        }
        // Parsed as UTF-8 text, because that is how it is embedded: on raw bytes Jackson would detect UTF-16/32 or
        // skip a byte order mark, and accept bodies that make every envelope carrying them invalid JSON.
        try (JsonParser p = JSON.createParser(new InputStreamReader(new ByteArrayInputStream(payload),
                StandardCharsets.UTF_8))) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new ApiException(ErrorCode.INVALID_JSON, "the body is empty but its type is JSON");
            }
            p.skipChildren();
            if (p.nextToken() != null) {
                throw new ApiException(ErrorCode.INVALID_JSON, "the body has data after its JSON value");
            }
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_JSON, "the body is not valid JSON: "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
