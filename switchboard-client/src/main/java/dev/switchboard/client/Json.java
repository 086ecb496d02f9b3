package dev.switchboard.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the API's JSON. Envelopes are read with the streaming parser so that a JSON payload comes back as the exact
 * bytes the server embedded (the bytes that were published), not re-serialised.
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /** A poll answer: {@code {"topic","messages":[envelope…],"next","gap"}}. */
    static Page page(byte[] raw) {
        try (JsonParser p = MAPPER.getFactory().createParser(raw)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            List<Message> messages = new ArrayList<>();
            long next = -1;
            boolean gap = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "messages" -> {
                        expect(value, JsonToken.START_ARRAY);
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            messages.add(envelopeFields(p, raw, null));
                        }
                    }
                    case "next" -> next = p.getLongValue();
                    case "gap" -> gap = value == JsonToken.VALUE_TRUE;
                    default -> p.skipChildren();
                }
            }
            if (next < 0) {
                throw Errors.protocol("a poll answer without next");
            }
            return new Page(messages, next, gap);
        } catch (IOException e) {
            throw Errors.protocol("unreadable poll answer: " + e.getMessage());
        }
    }

    /** A group fetch's answer: {@code {"messages":[envelope + "deliveries"…]}}. */
    static List<GroupMessage> groupMessages(byte[] raw) {
        try (JsonParser p = MAPPER.getFactory().createParser(raw)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            List<GroupMessage> messages = new ArrayList<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                JsonToken value = p.nextToken();
                if (p.currentName().equals("messages")) {
                    expect(value, JsonToken.START_ARRAY);
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        int[] deliveries = new int[1];
                        Message m = envelopeFields(p, raw, deliveries);
                        messages.add(new GroupMessage(m, deliveries[0]));
                    }
                } else {
                    p.skipChildren();
                }
            }
            return messages;
        } catch (IOException e) {
            throw Errors.protocol("unreadable fetch answer: " + e.getMessage());
        }
    }

    /** A WebSocket frame: its {@code op}, and the envelope when it is a message. */
    record Frame(String op, Message message, JsonNode tree) {}

    static Frame frame(byte[] raw) throws IOException {
        try (JsonParser p = MAPPER.getFactory().createParser(raw)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            // The server writes "op" first; the envelope's fields follow.
            if (p.nextToken() == JsonToken.FIELD_NAME && p.currentName().equals("op")
                    && p.nextToken() == JsonToken.VALUE_STRING && p.getText().equals("message")) {
                return new Frame("message", envelopeFields(p, raw, null), null);
            }
        }
        JsonNode tree = MAPPER.readTree(raw);
        return new Frame(tree.path("op").asText(), null, tree);
    }

    /**
     * Reads fields up to the end of the current object into a message; a group's {@code deliveries} into
     * {@code deliveries[0]} when that is not null.
     */
    private static Message envelopeFields(JsonParser p, byte[] raw, int[] deliveries) throws IOException {
        String topic = null;
        String time = null;
        String type = null;
        long offset = -1;
        byte[] json = null;
        String text = null;
        boolean base64 = false;
        Map<String, List<String>> headers = Map.of();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "topic" -> topic = p.getText();
                case "headers" -> headers = headers(p, value);
                case "offset" -> offset = p.getLongValue();
                case "time" -> time = p.getText();
                case "type" -> type = p.getText();
                case "encoding" -> base64 = "base64".equals(p.getText());
                case "deliveries" -> {
                    if (deliveries != null) {
                        deliveries[0] = p.getIntValue();
                    }
                }
                case "data" -> {
                    if (value == JsonToken.VALUE_STRING) {
                        text = p.getText();
                    } else {
                        int start = (int) p.currentTokenLocation().getByteOffset();
                        p.skipChildren();
                        int end = (int) p.currentLocation().getByteOffset();
                        json = Arrays.copyOfRange(raw, start, end);
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (offset < 1 || topic == null) {
            throw new IOException("an envelope without topic or offset");
        }
        return new Message(topic, offset, time, type, decode(json, text, base64), headers);
    }

    /** An envelope's {@code "headers":{"Name":["value",…],…}}, the parser at its start. */
    private static Map<String, List<String>> headers(JsonParser p, JsonToken start) throws IOException {
        expect(start, JsonToken.START_OBJECT);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            expect(p.nextToken(), JsonToken.START_ARRAY);
            List<String> values = new ArrayList<>();
            while (p.nextToken() == JsonToken.VALUE_STRING) {
                values.add(p.getText());
            }
            expect(p.currentToken(), JsonToken.END_ARRAY);
            headers.put(name, values);
        }
        return headers;
    }

    /** A lone envelope: an SSE event's data in the stream's envelope format. */
    static Message envelope(byte[] raw) throws IOException {
        try (JsonParser p = MAPPER.getFactory().createParser(raw)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            return envelopeFields(p, raw, null);
        }
    }

    /**
     * A data field of a top-level object as the bytes it stands for: base64 decoded when {@code encodingField} says
     * so, a string's UTF-8, or a JSON value's exact text.
     */
    static byte[] data(byte[] raw, String dataField, String encodingField) {
        byte[] json = null;
        String text = null;
        boolean base64 = false;
        try (JsonParser p = MAPPER.getFactory().createParser(raw)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals(dataField)) {
                    if (value == JsonToken.VALUE_STRING) {
                        text = p.getText();
                    } else {
                        int start = (int) p.currentTokenLocation().getByteOffset();
                        p.skipChildren();
                        json = Arrays.copyOfRange(raw, start, (int) p.currentLocation().getByteOffset());
                    }
                } else {
                    if (field.equals(encodingField)) {
                        base64 = "base64".equals(p.getValueAsString());
                    }
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw Errors.protocol("unreadable answer: " + e.getMessage());
        }
        return decode(json, text, base64);
    }

    private static byte[] decode(byte[] json, String text, boolean base64) {
        if (json != null) {
            return json;
        }
        if (text == null) {
            return new byte[0];
        }
        return base64 ? Base64.getDecoder().decode(text) : text.getBytes(StandardCharsets.UTF_8);
    }

    private static void expect(JsonToken actual, JsonToken expected) throws IOException {
        if (actual != expected) {
            throw new IOException("expected " + expected + ", got " + actual);
        }
    }

    /** A job JSON (docs/api.md, "Job JSON"), with its inline result as the exact bytes the server sent. */
    static Job job(byte[] raw) {
        JsonNode j = tree(raw);
        if (!j.hasNonNull("id") || !j.hasNonNull("status")) {
            throw Errors.protocol("a job without id or status: " + abbreviate(j.toString()));
        }
        JsonNode progress = j.path("progress");
        byte[] result = j.has("result") ? data(raw, "result", "resultEncoding") : null;
        return new Job(j.path("id").asText(), j.path("queue").asText(), JobStatus.fromWire(j.path("status").asText()),
                j.path("attempt").asInt(), progress.path("percent").isIntegralNumber() ? progress.path("percent").asInt() : -1,
                progress.path("message").asText(null), j.path("version").asLong(), j.path("error").asText(null),
                j.path("resultType").asText(null), j.path("resultBytes").asLong(), result, j.path("created").asText(null),
                j.path("updated").asText(null));
    }

    static JsonNode tree(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw Errors.protocol("the server answered with invalid JSON: " + e.getMessage());
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
