package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SseParserTest {
    /** Written with LF; each test swaps in its own line ending. */
    private static final String STREAM = String.join("\n",
            "\uFEFF: a comment, and a byte order mark before it",
            "id: 1",
            "event: message",
            "data: hello",
            "",
            "id: 2",
            "data: line one",
            "data:line two",
            "data",
            "",
            "event: gap",
            "data: {\"topic\":\"t\",\"from\":3,\"first\":7}",
            "",
            "event: nothing-to-dispatch",
            "",
            "id: 8",
            "data:  two spaces, one stripped",
            "data: h\u00e9llo \u20ac",
            "retry: 100",
            "unknown: field",
            ": heartbeat",
            "",
            "data: the stream ends inside this event, so it is dropped");

    private static final List<SseParser.Event> EXPECTED = List.of(
            new SseParser.Event("1", "message", "hello"),
            new SseParser.Event("2", "message", "line one\nline two\n"),
            new SseParser.Event("2", "gap", "{\"topic\":\"t\",\"from\":3,\"first\":7}"),
            new SseParser.Event("8", "message", " two spaces, one stripped\nh\u00e9llo \u20ac"));

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r", "\r\n"})
    void parsesWholeStream(String eol) {
        byte[] bytes = bytes(eol);
        List<SseParser.Event> events = new ArrayList<>();
        new SseParser(events::add).feed(bytes, 0, bytes.length);
        assertThat(events).containsExactlyElementsOf(EXPECTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r", "\r\n"})
    void parsesStreamSplitAtEveryByte(String eol) {
        byte[] bytes = bytes(eol);
        for (int split = 0; split <= bytes.length; split++) {
            List<SseParser.Event> events = new ArrayList<>();
            SseParser parser = new SseParser(events::add);
            parser.feed(bytes, 0, split);
            parser.feed(bytes, split, bytes.length - split);
            assertThat(events).as("split at byte %d", split).containsExactlyElementsOf(EXPECTED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r", "\r\n"})
    void parsesStreamOneByteAtATime(String eol) {
        byte[] bytes = bytes(eol);
        List<SseParser.Event> events = new ArrayList<>();
        SseParser parser = new SseParser(events::add);
        for (int i = 0; i < bytes.length; i++) {
            parser.feed(bytes, i, 1);
        }
        assertThat(events).containsExactlyElementsOf(EXPECTED);
    }

    @Test
    void dispatchesEachEventAsSoonAsItsBlankLineArrives() {
        List<SseParser.Event> events = new ArrayList<>();
        SseParser parser = new SseParser(events::add);
        byte[] first = "id: 1\r\ndata: a\r\n\r".getBytes(StandardCharsets.UTF_8);
        parser.feed(first, 0, first.length);
        assertThat(events).containsExactly(new SseParser.Event("1", "message", "a"));
        byte[] rest = "\nid: 2\r\ndata: b\r\n\r\n".getBytes(StandardCharsets.UTF_8);
        parser.feed(rest, 0, rest.length);
        assertThat(events).hasSize(2).last().isEqualTo(new SseParser.Event("2", "message", "b"));
    }

    private static byte[] bytes(String eol) {
        return STREAM.replace("\n", eol).getBytes(StandardCharsets.UTF_8);
    }
}
