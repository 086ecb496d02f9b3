package dev.switchboard.broker;

import java.nio.charset.StandardCharsets;

/** Text payloads in tests: a string as the bytes an engine stores, and back. */
public final class Payloads {
    private Payloads() {}

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String text(Message m) {
        return text(m.payload());
    }

    /** The text of a stored value, or null for none. */
    public static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
