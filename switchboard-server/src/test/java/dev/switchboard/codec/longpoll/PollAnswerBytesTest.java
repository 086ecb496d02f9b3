package dev.switchboard.codec.longpoll;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.switchboard.broker.Message;
import dev.switchboard.codec.Envelope;
import dev.switchboard.fanout.ManyTopicsAnswer;
import dev.switchboard.fanout.ReadResult;
import dev.switchboard.fanout.StreamCursor;
import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Poll answers and envelopes are written as bytes without Jackson's generator; they must be the bytes the generator
 * wrote (docs/api.md's shapes, and clients that compare bodies), for every awkward input: non-ASCII text in every
 * string, controls, quotes, surrogates (joined and lone), binary payloads as base64, JSON payloads, headers, gaps.
 */
class PollAnswerBytesTest {
    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);
    private static final JsonFactory JSON = new JsonFactory();
    private static final String AWKWARD = "a\"b\\c/d\b\f\n\r\t\u0000\u0001\u001f\u007f é ß € \uFFFF 😀 \uD800 \uDFFF ";

    @Test
    void aSingleTopicAnswerIsWhatJacksonWrote() throws IOException {
        List<Message> messages = List.of(
                new Message("chat.room-1", 1, 1_790_000_000_123L, "text/plain", bytes("hello")),
                new Message("chat.room-1", 2, 0, "text/plain; charset=utf-8", bytes(AWKWARD)),
                new Message("chat.room-1", Long.MAX_VALUE, 1_790_000_000_999L, "application/json",
                        bytes("{\"k\": [1, 2.5, \"é😀\\u0041\"], \"n\": null}")),
                new Message("chat.room-1", 4, 5, "application/octet-stream", new byte[] {0, -1, -128, 127, 10}),
                new Message("chat.room-1", 5, 6, "text/plain", new byte[] {(byte) 0xC3, (byte) 0x28}), // not UTF-8
                new Message("chat.room-1", 6, 7, "application/vnd.x+json", bytes("\"s\"")),
                new Message("chat.room-1", 7, 8, "text/plain", new byte[0], headers()));
        for (boolean gap : new boolean[] {false, true}) {
            ReadResult r = new ReadResult("chat.room-1", messages, Long.MAX_VALUE, gap);
            assertThat(body(PollEndpoint.encode(ALLOC, r))).isEqualTo(jackson(r));
        }
        ReadResult none = new ReadResult("t", List.of(), 1, false);
        assertThat(body(PollEndpoint.encode(ALLOC, none))).isEqualTo(jackson(none)).isEqualTo(
                "{\"topic\":\"t\",\"messages\":[],\"next\":1,\"gap\":false}");
    }

    @Test
    void aManyTopicsAnswerIsWhatJacksonWrote() throws IOException {
        TreeMap<String, Long> next = new TreeMap<>(Map.of("a", 3L, "b.c", 1L, "chat.x", 1234567L));
        List<Message> messages = List.of(new Message("a", 2, 9, "text/plain", bytes(AWKWARD), headers()),
                new Message("chat.x", 1234566, 9, "image/png", new byte[] {1, 2, 3}));
        List<ManyTopicsAnswer.Gap> gaps = List.of(new ManyTopicsAnswer.Gap("a", 0, 2),
                new ManyTopicsAnswer.Gap("chat.x", 7, 1234566));
        for (ManyTopicsAnswer a : List.of(new ManyTopicsAnswer(messages, next, gaps),
                new ManyTopicsAnswer(List.of(), next, List.of()),
                new ManyTopicsAnswer(messages, new TreeMap<>(), gaps.subList(0, 1)))) {
            assertThat(body(PollEndpoint.encode(ALLOC, a))).isEqualTo(jackson(a));
        }
    }

    @Test
    void randomStringsAreEscapedAsJacksonEscapesThem() throws IOException {
        Random random = new Random(14);
        char[] alphabet = (AWKWARD + "AZaz09{}[]:,").toCharArray();
        for (int round = 0; round < 2_000; round++) {
            StringBuilder s = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) {
                s.append(random.nextInt(4) == 0 ? (char) random.nextInt(0x10000)
                        : alphabet[random.nextInt(alphabet.length)]);
            }
            String text = s.toString();
            Map<String, List<String>> headers = Map.of(text, List.of(text, "v"));
            Message m = new Message("t", round, round, text.isEmpty() ? "text/plain" : text,
                    text.getBytes(StandardCharsets.UTF_8), headers);
            assertThat(new String(Envelope.encodeWithOp(m, text), StandardCharsets.UTF_8))
                    .as("%s", text.chars().mapToObj(Integer::toHexString).toList())
                    .isEqualTo(jacksonEnvelope(m, text));
        }
    }

    @Test
    void anEnvelopeWithoutOpIsWhatJacksonWrote() throws IOException {
        Message m = new Message("t.u", 3, 4, "text/plain", bytes(AWKWARD), headers());
        assertThat(new String(Envelope.encode(m), StandardCharsets.UTF_8)).isEqualTo(jacksonEnvelope(m, null));
    }

    private static Map<String, List<String>> headers() {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("X-One", List.of("1"));
        h.put("x-many", List.of("a", "", AWKWARD));
        h.put(AWKWARD, List.of("é"));
        return h;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String body(FullHttpResponse r) {
        try {
            return new String(ByteBufUtil.getBytes(r.content()), StandardCharsets.UTF_8);
        } finally {
            r.release();
        }
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    /** How the answers were written before, with Jackson's generator. */
    private static String jackson(Fields fields) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String jackson(ReadResult r) throws IOException {
        return jackson(g -> {
            g.writeStringField("topic", r.topic());
            writeMessages(g, r.messages());
            g.writeNumberField("next", r.next());
            g.writeBooleanField("gap", r.gap());
        });
    }

    private static String jackson(ManyTopicsAnswer a) throws IOException {
        return jackson(g -> {
            writeMessages(g, a.messages());
            g.writeStringField("cursor", StreamCursor.encode(a.next()));
            g.writeArrayFieldStart("gaps");
            for (ManyTopicsAnswer.Gap gap : a.gaps()) {
                g.writeStartObject();
                g.writeStringField("topic", gap.topic());
                g.writeNumberField("from", gap.from());
                g.writeNumberField("first", gap.first());
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    private static String jacksonEnvelope(Message m, String op) throws IOException {
        return jackson(g -> {
            if (op != null) {
                g.writeStringField("op", op);
            }
            jacksonEnvelopeFields(g, m);
        });
    }

    /** The envelope's fields as the server wrote them with Jackson's generator, before JsonBytes. */
    private static void jacksonEnvelopeFields(JsonGenerator g, Message m) throws IOException {
        g.writeStringField("topic", m.topic());
        g.writeNumberField("offset", m.offset());
        g.writeStringField("time", Payloads.formatTime(m.time()));
        g.writeStringField("type", m.type());
        Payloads.writeHeaders(g, m.headers());
        Payloads.writeData(g, "data", "encoding", m.type(), m.payload());
    }

    private static void writeMessages(JsonGenerator g, List<Message> messages) throws IOException {
        g.writeArrayFieldStart("messages");
        for (Message m : messages) {
            g.writeStartObject();
            jacksonEnvelopeFields(g, m);
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}
