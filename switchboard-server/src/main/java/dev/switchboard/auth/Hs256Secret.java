package dev.switchboard.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** The HS256 secret file: raw bytes with one trailing newline ignored (editors add one), at least 32 bytes. */
public final class Hs256Secret {
    /** RFC 7518 3.2: the key must be at least as long as the hash, 256 bits. */
    public static final int MIN_BYTES = 32;

    private Hs256Secret() {}

    public static byte[] read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int length = bytes.length;
        if (length > 0 && bytes[length - 1] == '\n') {
            length--;
        }
        if (length < MIN_BYTES) {
            throw new IOException(file + " holds " + length + " bytes; an HS256 secret needs at least " + MIN_BYTES
                    + " (e.g. head -c 32 /dev/urandom > " + file + ")");
        }
        return Arrays.copyOf(bytes, length);
    }
}
