package dev.switchboard.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A client-side Server-Sent Events parser written from the WHATWG HTML "event stream interpretation" rules, independent
 * of the server's encoder: lines end in CR, LF or CRLF (a CRLF may be split across two reads); a leading BOM is
 * dropped; {@code :} starts a comment; {@code field: value} loses one optional space after the colon; {@code data}
 * lines are joined with LF; {@code id} sets the last event id, which persists across events; a blank line dispatches
 * the event when its data buffer is not empty, with type {@code message} unless {@code event} set one.
 *
 * <p>Bytes may be fed in any chunks; lines are decoded as UTF-8 once complete, so a multi-byte character split across
 * reads is decoded whole. Not thread-safe: feed from one thread.
 */
public final class SseParser {
    /** A dispatched event: the last event id at dispatch time, the type and the data. */
    public record Event(String id, String type, String data) {}

    private final Consumer<Event> onEvent;
    private final Consumer<String> onComment;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final StringBuilder data = new StringBuilder();
    private String eventType = "";
    private String lastEventId = "";
    private boolean afterCr;
    private boolean atStreamStart = true;

    public SseParser(Consumer<Event> onEvent, Consumer<String> onComment) {
        this.onEvent = onEvent;
        this.onComment = onComment;
    }

    /** Parses a whole stream at once and returns its events. */
    public static List<Event> parseAll(byte[] stream) {
        List<Event> events = new ArrayList<>();
        SseParser p = new SseParser(events::add, c -> { });
        p.feed(stream, 0, stream.length);
        return events;
    }

    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    public void feed(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte b = bytes[i];
            if (afterCr) {
                afterCr = false;
                if (b == '\n') {
                    continue; // the LF of a CRLF
                }
            }
            if (b == '\r') {
                lineEnded();
                afterCr = true;
            } else if (b == '\n') {
                lineEnded();
            } else {
                line.write(b);
            }
        }
    }

    public String lastEventId() {
        return lastEventId;
    }

    private void lineEnded() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (atStreamStart) {
            atStreamStart = false;
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
        }
        if (text.isEmpty()) {
            dispatch();
            return;
        }
        if (text.startsWith(":")) {
            onComment.accept(text.substring(1));
            return;
        }
        int colon = text.indexOf(':');
        String field;
        String value;
        if (colon >= 0) {
            field = text.substring(0, colon);
            value = text.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
        } else {
            field = text;
            value = "";
        }
        switch (field) {
            case "event" -> eventType = value;
            case "data" -> data.append(value).append('\n');
            case "id" -> {
                if (value.indexOf('\0') < 0) {
                    lastEventId = value;
                }
            }
            default -> { } // "retry" and unknown fields do not concern these tests
        }
    }

    private void dispatch() {
        if (data.isEmpty()) {
            eventType = "";
            return;
        }
        String d = data.substring(0, data.length() - 1);
        String type = eventType.isEmpty() ? "message" : eventType;
        data.setLength(0);
        eventType = "";
        onEvent.accept(new Event(lastEventId, type, d));
    }
}
