package dev.switchboard.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Undoes the HTTP/1.1 chunked transfer coding (RFC 9112 7.1) of a response body read off the wire, written from the
 * RFC rather than with the server's codec. A body cut short (the connection closed within a chunk) gives what
 * arrived; a malformed chunk-size line fails the test.
 */
public final class Chunked {
    /** The data of the chunks, each chunk's size, and whether the last chunk (size 0) arrived. */
    public record Body(byte[] data, List<Integer> chunkSizes, boolean ended) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    private Chunked() {}

    public static Body decode(byte[] wire) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<Integer> sizes = new ArrayList<>();
        int i = 0;
        while (i < wire.length) {
            int lineEnd = indexOfCrlf(wire, i);
            if (lineEnd < 0) {
                break; // cut within a chunk-size line
            }
            String sizeLine = new String(wire, i, lineEnd - i, StandardCharsets.US_ASCII);
            int semicolon = sizeLine.indexOf(';'); // chunk extensions are allowed, and ignored
            String hex = (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim();
            if (hex.isEmpty() || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw new AssertionError("not a chunk-size line at byte " + i + ": '" + sizeLine + "'");
            }
            int size = Integer.parseInt(hex, 16);
            i = lineEnd + 2;
            if (size == 0) {
                return new Body(data.toByteArray(), sizes, true);
            }
            sizes.add(size);
            int available = Math.min(size, wire.length - i);
            data.write(wire, i, available);
            i += available;
            if (available < size) {
                break;
            }
            if (i + 2 <= wire.length && (wire[i] != '\r' || wire[i + 1] != '\n')) {
                throw new AssertionError("chunk of " + size + " bytes not followed by CRLF at byte " + i);
            }
            i += 2;
        }
        return new Body(data.toByteArray(), sizes, false);
    }

    private static int indexOfCrlf(byte[] b, int from) {
        for (int i = from; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
