package dev.switchboard.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SseParserTest {

    record Event(String id, String type, String data) {
    }

    /** Written with LF; each test swaps in the line ending under test. */
    private static final String STREAM = String.join("\n",
            ": connected",
            "id: 1",
            "event: message",
            "data: 123 xxx",
            "",
            ":heartbeat",
            "",
            "id:2",
            "data: first line",
            "data:second line",
            "data",
            "",
            "event: gap",
            "data: {\"from\":3}",
            ": a comment between fields",
            "retry: 1000",
            "unknown: field",
            "",
            "id: 4",
            "data:  two spaces keep one",
            "",
            "id: 5",
            "event: dropped",
            "",
            "data: cut off by the end of the stream");

    private static final List<Event> EXPECTED = List.of(
            new Event("1", "message", "123 xxx"),
            new Event("2", "message", "first line\nsecond line\n"),
            new Event("2", "gap", "{\"from\":3}"),
            new Event("4", "message", " two spaces keep one"));

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF", "CR", "CRLF"})
    void parsesTheStreamWhole(String ending) {
        assertThat(parse(withEnding(ending), List.of(withEnding(ending).length))).isEqualTo(EXPECTED);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF", "CR", "CRLF"})
    void parsesTheStreamSplitAtEveryByte(String ending) {
        byte[] input = withEnding(ending);
        for (int split = 0; split <= input.length; split++) {
            assertThat(parse(input, List.of(split, input.length - split)))
                    .as("split at byte %d", split)
                    .isEqualTo(EXPECTED);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF", "CR", "CRLF"})
    void parsesTheStreamOneByteAtATime(String ending) {
        byte[] input = withEnding(ending);
        List<Integer> ones = new ArrayList<>();
        for (int i = 0; i < input.length; i++) {
            ones.add(1);
        }
        assertThat(parse(input, ones)).isEqualTo(EXPECTED);
    }

    /**
     * Line ends are searched 8 bytes at a time: each ending at every position in a word, among UTF-8 bytes whose low
     * bits are an LF's or a CR's (U+010A, U+010D: C4 8A, C4 8D), which must not count as line ends.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"LF", "CR", "CRLF"})
    void findsEachLineEndAtEveryPositionOfAWord(String ending) {
        String eol = ending.equals("LF") ? "\n" : ending.equals("CR") ? "\r" : "\r\n";
        StringBuilder stream = new StringBuilder();
        List<Event> expected = new ArrayList<>();
        for (int length = 0; length < 20; length++) {
            String data = "\u010a\u010d".repeat(length / 2) + "x".repeat(length % 2);
            stream.append("id: ").append(length).append(eol).append("data: ").append(data).append(eol).append(eol);
            expected.add(new Event(Integer.toString(length), "message", data));
        }
        byte[] input = stream.toString().getBytes(StandardCharsets.UTF_8);
        assertThat(parse(input, List.of(input.length))).isEqualTo(expected);
    }

    @Test
    void skipsAByteOrderMarkAtTheStart() {
        byte[] bom = {(byte) 0xef, (byte) 0xbb, (byte) 0xbf};
        byte[] body = "data: hi\n\n".getBytes(StandardCharsets.UTF_8);
        byte[] input = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, input, 0, bom.length);
        System.arraycopy(body, 0, input, bom.length, body.length);
        assertThat(parse(input, List.of(2, input.length - 2))).containsExactly(new Event("", "message", "hi"));
    }

    @Test
    void keepsUtf8CharactersSplitAcrossChunks() {
        // A byte order mark before a comment, then two- and three-byte characters; some splits fall inside them.
        byte[] input = "\uFEFF: a comment\nid: 8\ndata: h\u00e9llo \u20ac\n\n".getBytes(StandardCharsets.UTF_8);
        for (int split = 0; split <= input.length; split++) {
            assertThat(parse(input, List.of(split, input.length - split)))
                    .as("split at byte %d", split)
                    .containsExactly(new Event("8", "message", "h\u00e9llo \u20ac"));
        }
    }

    @Test
    void dispatchesEachEventAsSoonAsItsBlankLineArrives() {
        List<Event> events = new ArrayList<>();
        SseParser parser = new SseParser(1024, e -> events.add(new Event(e.id(), e.type(), e.data())));
        parser.feed("id: 1\r\ndata: a\r\n\r".getBytes(StandardCharsets.UTF_8));
        assertThat(events).containsExactly(new Event("1", "message", "a"));
        parser.feed("\nid: 2\r\ndata: b\r\n\r\n".getBytes(StandardCharsets.UTF_8));
        assertThat(events).hasSize(2).last().isEqualTo(new Event("2", "message", "b"));
    }

    /** Field names are matched as a prefix and then a colon or the line's end: a longer name is another field. */
    @Test
    void takesAFieldOnlyWhenItsWholeNameMatches() {
        String stream = String.join("\n",
                "id: 7", "idx: 8", "i: 9", "ids", "event: gap", "events: other", "eventx", "datax: no", "dat: no",
                "data: kept", "data", "data:", "data:: colon kept", "", "id", "data: empty id", "", "");
        List<Event> events = new ArrayList<>();
        SseParser parser = new SseParser(1024, e -> events.add(new Event(e.id(), e.type(), e.data())));
        parser.feed(stream.getBytes(StandardCharsets.UTF_8));
        assertThat(events).containsExactly(
                new Event("7", "gap", "kept\n\n\n: colon kept"),
                new Event("", "message", "empty id"));
    }

    @Test
    void refusesALineLongerThanTheLimit() {
        SseParser parser = new SseParser(16, event -> { });
        byte[] chunk = ("data: " + "x".repeat(20)).getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> parser.feed(chunk)).isInstanceOf(SseParser.TooLongException.class);
    }

    @Test
    void refusesDataLongerThanTheLimit() {
        SseParser parser = new SseParser(16, event -> { });
        byte[] chunk = "data: 0123456789\ndata: 0123456789\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> parser.feed(chunk)).isInstanceOf(SseParser.TooLongException.class);
    }

    private static byte[] withEnding(String ending) {
        String eol = switch (ending) {
            case "LF" -> "\n";
            case "CR" -> "\r";
            default -> "\r\n";
        };
        return STREAM.replace("\n", eol).getBytes(StandardCharsets.UTF_8);
    }

    /** Feeds {@code input} in chunks of the given sizes, like successive TCP reads. */
    private static List<Event> parse(byte[] input, List<Integer> chunkSizes) {
        List<Event> events = new ArrayList<>();
        SseParser parser = new SseParser(1024, e -> events.add(new Event(e.id(), e.type(), e.data())));
        int at = 0;
        for (int size : chunkSizes) {
            parser.feed(input, at, size);
            at += size;
        }
        return events;
    }
}
