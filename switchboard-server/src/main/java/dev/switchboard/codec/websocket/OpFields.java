package dev.switchboard.codec.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.Payloads;
import dev.switchboard.wire.TopicNames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The fields of a client's JSON op (docs/api.md, WebSocket), read with the op's own error for each bad one. */
final class OpFields {
    private OpFields() {}

    static String text(JsonNode op, String field) {
        JsonNode n = op.get(field);
        if (n == null || !n.isTextual()) {
            throw new ApiException(ErrorCode.INVALID_OP, "the op needs a string \"" + field + "\"");
        }
        return n.asText();
    }

    static StartPosition from(JsonNode from) {
        if (from == null || from.isNull()) {
            return StartPosition.NEXT;
        }
        if (from.isIntegralNumber()) {
            // the digits as sent: asLong() would wrap a number past 2^63 around (2^64 + 1 became offset 1)
            return StartPosition.parse(from.asText(), StartPosition.NEXT);
        }
        if (from.isTextual()) {
            return StartPosition.parse(from.asText(), StartPosition.NEXT);
        }
        throw new ApiException(ErrorCode.INVALID_FROM, "from must be \"next\", \"earliest\" or an offset");
    }

    /** A publish's {@code "headers"} in the envelope's shape, {@code {"Name":["value",…],…}}; none when absent. */
    static Map<String, List<String>> headers(JsonNode headers) {
        if (headers == null || headers.isNull()) {
            return MessageHeaders.NONE;
        }
        if (!headers.isObject()) {
            throw new ApiException(ErrorCode.INVALID_HEADERS, "headers must be an object like {\"Name\":[\"value\"]}");
        }
        Map<String, List<String>> fields = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> h : headers.properties()) {
            if (!h.getValue().isArray()) {
                throw new ApiException(ErrorCode.INVALID_HEADERS, "header '" + TopicNames.abbreviate(h.getKey())
                        + "' must be an array of strings");
            }
            List<String> values = new ArrayList<>();
            for (JsonNode v : h.getValue()) {
                if (!v.isTextual()) {
                    throw new ApiException(ErrorCode.INVALID_HEADERS, "header '" + TopicNames.abbreviate(h.getKey())
                            + "' must be an array of strings");
                }
                values.add(v.asText());
            }
            fields.put(h.getKey(), List.copyOf(values));
        }
        return fields;
    }

    /** A publish op's payload as stored, with its content type. */
    record Payload(byte[] bytes, String type) {}

    /**
     * The payload of a publish op's {@code data}: base64 decoded (binary by default), a string as its text, anything
     * else as JSON; {@code type} null when the op gives none.
     */
    static Payload payload(JsonNode data, String type, boolean base64) {
        if (base64) {
            if (!data.isTextual()) {
                throw new ApiException(ErrorCode.INVALID_OP, "base64 data must be a string");
            }
            try {
                return new Payload(Base64.getDecoder().decode(data.asText()),
                        type == null ? "application/octet-stream" : type);
            } catch (IllegalArgumentException e) {
                throw new ApiException(ErrorCode.INVALID_OP, "data is not valid base64");
            }
        }
        if (data.isTextual() && (type == null || !Payloads.isJsonType(type))) {
            return new Payload(data.asText().getBytes(StandardCharsets.UTF_8),
                    type == null ? "text/plain; charset=utf-8" : type);
        }
        return new Payload(data.toString().getBytes(StandardCharsets.UTF_8), type == null ? "application/json" : type);
    }
}
