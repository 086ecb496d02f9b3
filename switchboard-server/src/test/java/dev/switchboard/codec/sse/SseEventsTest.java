package dev.switchboard.codec.sse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Message;
import dev.switchboard.testing.SseParser;
import dev.switchboard.testing.SseParser.Event;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The SSE wire form of messages, checked byte for byte and through an independent spec-following parser. */
class SseEventsTest {
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";
    private static final String OCTETS = "application/octet-stream";

    private static Message msg(long offset, String type, byte[] payload) {
        return new Message("chat.room-1", offset, 1_700_000_000_000L + offset, type, payload);
    }

    private static Message text(long offset, String payload) {
        return msg(offset, TEXT, payload.getBytes(StandardCharsets.UTF_8));
    }

    private static String wire(Message m) {
        return new String(SseEvents.message(m), StandardCharsets.UTF_8);
    }

    @Test
    void theEnvelopeFormatCarriesTypeTimeAndHeadersAndSplitsAJsonPayloadsLines() {
        Message m = new Message("chat.room-1", 5, 1_700_000_000_005L, JSON,
                "{\n\"a\": 1\r\n}".getBytes(StandardCharsets.UTF_8), Map.of("Trace-Id", List.of("t\"1")));
        assertThat(new String(SseEvents.envelope(m), StandardCharsets.UTF_8)).isEqualTo("id: 5\nevent: message\n"
                + "data: {\"topic\":\"chat.room-1\",\"offset\":5,\"time\":\"2023-11-14T22:13:20.005Z\","
                + "\"type\":\"application/json\",\"headers\":{\"Trace-Id\":[\"t\\\"1\"]},\"data\":{\n"
                + "data: \"a\": 1\n"
                + "data: }}\n\n");
        List<Event> parsed = SseParser.parseAll(SseEvents.envelope(text(6, "two\nlines")));
        assertThat(parsed.getFirst().data()).isEqualTo("{\"topic\":\"chat.room-1\",\"offset\":6,"
                + "\"time\":\"2023-11-14T22:13:20.006Z\",\"type\":\"text/plain; charset=utf-8\","
                + "\"data\":\"two\\nlines\"}");
    }

    @Test
    void singleLinePayloadIsOneEvent() {
        assertThat(wire(text(7, "hello world"))).isEqualTo("id: 7\nevent: message\ndata: hello world\n\n");
    }

    @ParameterizedTest(name = "line break {0}")
    @ValueSource(strings = {"\n", "\r", "\r\n"})
    void eachLineOfAPayloadIsOneDataLine(String lineBreak) {
        String payload = "first" + lineBreak + "second" + lineBreak + "third";
        assertThat(wire(text(3, payload)))
                .isEqualTo("id: 3\nevent: message\ndata: first\ndata: second\ndata: third\n\n");
    }

    @Test
    void mixedAndRepeatedLineBreaksKeepEmptyLines() {
        // "a" CRLF, "" CRLF, "b" LF, "" CR, "c": LF followed by CR is two line ends, not one.
        assertThat(wire(text(1, "a\r\n\r\nb\n\rc")))
                .isEqualTo("id: 1\nevent: message\ndata: a\ndata: \ndata: b\ndata: \ndata: c\n\n");
    }

    @Test
    void leadingAndTrailingLineBreaksBecomeEmptyDataLines() {
        assertThat(wire(text(2, "\nmiddle\n")))
                .isEqualTo("id: 2\nevent: message\ndata: \ndata: middle\ndata: \n\n");
        assertThat(wire(text(2, "\r\n"))).isEqualTo("id: 2\nevent: message\ndata: \ndata: \n\n");
    }

    @Test
    void emptyPayloadIsOneEmptyDataLine() {
        assertThat(wire(msg(9, TEXT, new byte[0]))).isEqualTo("id: 9\nevent: message\ndata: \n\n");
        // and a parser still dispatches it, with empty data
        assertThat(SseParser.parseAll(SseEvents.message(msg(9, TEXT, new byte[0]))))
                .containsExactly(new Event("9", "message", ""));
    }

    @Test
    void jsonPayloadIsSentAsItsText() {
        assertThat(wire(msg(4, JSON, "{\"text\":\"hi\"}".getBytes(StandardCharsets.UTF_8))))
                .isEqualTo("id: 4\nevent: message\ndata: {\"text\":\"hi\"}\n\n");
        String pretty = "{\r\n  \"a\": [1,\n    2]\r}";
        assertThat(wire(msg(5, "application/vnd.thing+json", pretty.getBytes(StandardCharsets.UTF_8))))
                .isEqualTo("id: 5\nevent: message\ndata: {\ndata:   \"a\": [1,\ndata:     2]\ndata: }\n\n");
    }

    @Test
    void nonUtf8PayloadIsOneLineOfBase64() {
        byte[] bytes = {(byte) 0xff, (byte) 0xfe, 0x00, '\n', '\r', (byte) 0x80, 'x'};
        String b64 = Base64.getEncoder().encodeToString(bytes);
        assertThat(wire(msg(6, OCTETS, bytes))).isEqualTo("id: 6\nevent: message\ndata: " + b64 + "\n\n");
        // the declared type does not matter: invalid UTF-8 is never sent raw, even as text/plain
        assertThat(wire(msg(6, TEXT, bytes))).isEqualTo("id: 6\nevent: message\ndata: " + b64 + "\n\n");
    }

    @Test
    void utf8PayloadOfAnyTypeIsSentAsText() {
        assertThat(wire(msg(8, OCTETS, "plain ascii".getBytes(StandardCharsets.UTF_8))))
                .isEqualTo("id: 8\nevent: message\ndata: plain ascii\n\n");
        assertThat(SseEvents.message(text(8, "héllo 🎉")))
                .isEqualTo("id: 8\nevent: message\ndata: héllo 🎉\n\n".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void gapAndHeartbeatForms() {
        assertThat(new String(SseEvents.gap("t.x", 3, 10), StandardCharsets.US_ASCII))
                .isEqualTo("event: gap\ndata: {\"topic\":\"t.x\",\"from\":3,\"first\":10}\n\n");
        assertThat(new String(SseEvents.heartbeat(), StandardCharsets.US_ASCII)).startsWith(":").endsWith("\n");
    }

    // ---- the parser itself, on the examples of the WHATWG spec ----

    @Test
    void parserFollowsTheSpecExamples() {
        assertThat(parse("data: YHOO\ndata: +2\ndata: 10\n\n"))
                .containsExactly(new Event("", "message", "YHOO\n+2\n10"));
        assertThat(parse(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"))
                .containsExactly(new Event("1", "message", "first event"), new Event("", "message", "second event"),
                        new Event("", "message", " third event"));
        assertThat(parse("data\n\ndata\ndata\n\ndata:"))
                .containsExactly(new Event("", "message", ""), new Event("", "message", "\n"));
        assertThat(parse("data:test\n\ndata: test\n\n"))
                .containsExactly(new Event("", "message", "test"), new Event("", "message", "test"));
        assertThat(parse("\uFEFFevent: add\r\ndata: 73857293\r\rid: 5\revent: remove\rdata: 2153\n\n"))
                .containsExactly(new Event("", "add", "73857293"), new Event("5", "remove", "2153"));
    }

    private static List<Event> parse(String s) {
        return SseParser.parseAll(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- many events, every split point, every line-ending style ----

    /** Payloads chosen to look like SSE syntax, split multi-byte characters and carry every kind of line break. */
    private static final List<Message> STREAM_MESSAGES = List.of(
            text(1, "plain"),
            text(2, "two\nlines"),
            text(3, "cr\rline\r\nand crlf"),
            msg(4, TEXT, new byte[0]),
            text(5, "  two leading spaces\n: not a comment\ndata: not a field\nid: 99\nevent: fake\n\n\nretry: 1"),
            msg(6, JSON, "{\"text\":\"héllo wörld 🎉\",\r\n \"n\":[1,2]}".getBytes(StandardCharsets.UTF_8)),
            msg(7, OCTETS, new byte[] {(byte) 0xc3, '\n', (byte) 0xa9, (byte) 0xf0, (byte) 0x9f, 0, (byte) 0xff}),
            text(8, "trailing newline\n"),
            text(9, "\u00a0\u2028unicode line separator is not an SSE line break\u0085"),
            text(10, "ends with cr\r"));

    private static byte[] encodedStream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Message m : STREAM_MESSAGES) {
            out.writeBytes(SseEvents.message(m));
            if (m.offset() == 3) {
                out.writeBytes(SseEvents.heartbeat());
            }
            if (m.offset() == 7) {
                out.writeBytes(SseEvents.gap("chat.room-1", 8, 8));
            }
        }
        out.writeBytes(SseEvents.heartbeat());
        return out.toByteArray();
    }

    /** What a client must see: ids, types, data with every line break normalised to LF, non-UTF-8 as base64. */
    private static List<Event> expectedEvents() {
        List<Event> events = new ArrayList<>();
        for (Message m : STREAM_MESSAGES) {
            String data = m.offset() == 7 ? Base64.getEncoder().encodeToString(m.payload())
                    : new String(m.payload(), StandardCharsets.UTF_8).replace("\r\n", "\n").replace('\r', '\n');
            events.add(new Event(Long.toString(m.offset()), "message", data));
            if (m.offset() == 7) {
                // a gap event has no id of its own: the last event id stays that of the event before
                events.add(new Event("7", "gap", "{\"topic\":\"chat.room-1\",\"from\":8,\"first\":8}"));
            }
        }
        return events;
    }

    static Stream<Arguments> lineEndings() {
        return Stream.of(Arguments.of("LF", "\n"), Arguments.of("CR", "\r"), Arguments.of("CRLF", "\r\n"));
    }

    @ParameterizedTest(name = "{0} line endings")
    @MethodSource("lineEndings")
    void streamRoundTripsWhenSplitAtEveryByteBoundary(String name, String lineEnding) {
        byte[] lf = encodedStream();
        assertThat(lf).as("the server only ever ends lines with LF, payload line breaks are re-encoded")
                .doesNotContain((byte) '\r');
        byte[] stream = new String(lf, StandardCharsets.UTF_8).replace("\n", lineEnding)
                .getBytes(StandardCharsets.UTF_8);
        List<Event> expected = expectedEvents();

        assertThat(SseParser.parseAll(stream)).containsExactlyElementsOf(expected);
        for (int split = 0; split <= stream.length; split++) {
            List<Event> events = new ArrayList<>();
            List<String> comments = new ArrayList<>();
            SseParser p = new SseParser(events::add, comments::add);
            p.feed(stream, 0, split);
            p.feed(stream, split, stream.length - split);
            assertThat(events).as("split at byte %d of %d", split, stream.length).containsExactlyElementsOf(expected);
            assertThat(comments).as("heartbeats at split %d", split).hasSize(2);
        }
        // and one byte per read
        List<Event> events = new ArrayList<>();
        SseParser p = new SseParser(events::add, c -> { });
        for (int i = 0; i < stream.length; i++) {
            p.feed(stream, i, 1);
        }
        assertThat(events).containsExactlyElementsOf(expected);
    }

    @Test
    void twoSplitPointsAcrossTheMultiLineEvent() {
        byte[] stream = encodedStream();
        List<Event> expected = expectedEvents();
        // every pair of split points inside the first few events (a three-read delivery)
        int limit = Math.min(stream.length, 160);
        for (int a = 0; a <= limit; a++) {
            for (int b = a; b <= limit; b++) {
                List<Event> events = new ArrayList<>();
                SseParser p = new SseParser(events::add, c -> { });
                p.feed(stream, 0, a);
                p.feed(stream, a, b - a);
                p.feed(stream, b, stream.length - b);
                if (!events.equals(expected)) { // (AssertJ on each of ~13,000 splits would dominate the run time)
                    assertThat(events).as("splits at %d and %d", a, b).containsExactlyElementsOf(expected);
                }
            }
        }
    }
}
