package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;

/**
 * Finds top-level-looking fields in a small JSON object without parsing it. Good enough for the server's
 * flat envelopes, whose string values (topic names, the benchmark's own payloads) never contain a quoted key
 * followed by a colon; it is not a JSON parser.
 */
final class JsonFields {
    private JsonFields() {
    }

    /** Index of the first byte of the value of field {@code name}, or -1 when the object has no such field. */
    static int valueIndex(ByteBuf json, String name) {
        int end = json.writerIndex();
        int at = json.readerIndex() + 1;
        while ((at = Ascii.indexOf(json, at, end, name)) >= 0) {
            int afterName = at + name.length();
            if (json.getByte(at - 1) == '"' && afterName < end && json.getByte(afterName) == '"') {
                int i = skipSpace(json, afterName + 1, end);
                if (i < end && json.getByte(i) == ':') {
                    return skipSpace(json, i + 1, end);
                }
            }
            at = afterName;
        }
        return -1;
    }

    /** The number value of field {@code name}. */
    static long longValue(ByteBuf json, String name) {
        int at = valueIndex(json, name);
        if (at < 0) {
            throw new NumberFormatException("no field \"" + name + "\"");
        }
        return Ascii.parseLong(json, at);
    }

    /** Whether field {@code name} is the string {@code value} (compared without unescaping). */
    static boolean stringEquals(ByteBuf json, String name, String value) {
        int at = valueIndex(json, name);
        return at >= 0 && at + value.length() + 2 <= json.writerIndex()
                && json.getByte(at) == '"'
                && Ascii.regionMatches(json, at + 1, at + 1 + value.length(), value)
                && json.getByte(at + 1 + value.length()) == '"';
    }

    private static int skipSpace(ByteBuf json, int from, int end) {
        int i = from;
        while (i < end) {
            byte b = json.getByte(i);
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                break;
            }
            i++;
        }
        return i;
    }
}
