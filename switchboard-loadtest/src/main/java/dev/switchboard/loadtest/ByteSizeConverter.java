package dev.switchboard.loadtest;

import java.util.Locale;
import picocli.CommandLine;

/**
 * Byte counts as options: a whole number with an optional unit, {@code 1024}, {@code 64KB}, {@code 200MB},
 * {@code 1GiB}. Units are binary whichever way they are spelt ({@code KB} = {@code KiB} = 1,024 bytes,
 * {@code MB} = {@code MiB} = 1,048,576), case-insensitive, and may follow a space.
 */
final class ByteSizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /**
     * The number of bytes {@code text} says.
     *
     * @throws IllegalArgumentException if it is not a whole number with a known unit, or overflows a long
     */
    static long parse(String text) {
        String s = text == null ? "" : text.strip();
        int split = 0;
        while (split < s.length() && s.charAt(split) >= '0' && s.charAt(split) <= '9') {
            split++;
        }
        int shift = switch (s.substring(split).strip().toUpperCase(Locale.ROOT)) {
            case "", "B" -> 0;
            case "K", "KB", "KIB" -> 10;
            case "M", "MB", "MIB" -> 20;
            case "G", "GB", "GIB" -> 30;
            default -> -1;
        };
        if (split == 0 || shift < 0) {
            throw new IllegalArgumentException("a size must be a whole number of bytes with an optional unit "
                    + "B, KB, MB or GB (binary: 1KB = 1024 B), like 200MB or 64KB, got '" + text + "'");
        }
        try {
            long n = Long.parseLong(s.substring(0, split));
            if (n > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
    }

    /** {@code bytes} in MiB with one decimal, for reports. */
    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }
}
