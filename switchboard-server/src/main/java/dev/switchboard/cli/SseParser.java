package dev.switchboard.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * An incremental {@code text/event-stream} parser (WHATWG HTML, "server-sent events"). Feed it the
 * bytes as they arrive, in chunks of any size; it calls the listener once per dispatched event.
 *
 * <p>Lines end with LF, CR or CRLF (a CRLF split across two chunks counts once). Lines are split
 * on bytes and decoded whole, so a UTF-8 character split across chunks survives. {@code retry} and
 * unknown fields are ignored; an event the stream ends in the middle of is dropped.
 */
final class SseParser {
    /** {@code id} is the last event id seen so far on the stream, as the standard defines it. */
    record Event(String id, String type, String data) {
    }

    private final Consumer<Event> listener;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final StringBuilder data = new StringBuilder();
    private String type = "";
    private String lastEventId = "";
    private boolean afterCr;
    private boolean firstLine = true;

    SseParser(Consumer<Event> listener) {
        this.listener = listener;
    }

    void feed(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte b = bytes[i];
            if (afterCr) {
                afterCr = false;
                if (b == '\n') {
                    continue;
                }
            }
            if (b == '\r' || b == '\n') {
                afterCr = b == '\r';
                endLine();
            } else {
                line.write(b);
            }
        }
    }

    private void endLine() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (firstLine) {
            firstLine = false;
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
        }
        if (text.isEmpty()) {
            dispatch();
            return;
        }
        if (text.charAt(0) == ':') {
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        String value = colon < 0 ? "" : text.substring(text.startsWith(" ", colon + 1) ? colon + 2 : colon + 1);
        switch (field) {
            case "event" -> type = value;
            case "data" -> data.append(value).append('\n');
            case "id" -> {
                if (value.indexOf('\0') < 0) {
                    lastEventId = value;
                }
            }
            default -> {
            }
        }
    }

    private void dispatch() {
        if (!data.isEmpty()) {
            data.setLength(data.length() - 1);
            listener.accept(new Event(lastEventId, type.isEmpty() ? "message" : type, data.toString()));
        }
        data.setLength(0);
        type = "";
    }
}
