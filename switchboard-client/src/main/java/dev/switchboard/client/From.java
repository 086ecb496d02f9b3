package dev.switchboard.client;

/**
 * Where a reader starts in a topic: {@link #next()} (only what is published after it joins), {@link #earliest()}
 * (the oldest retained message) or {@link #offset(long) an offset} (the first message at or after it).
 * Immutable.
 */
public final class From {
    private static final From NEXT = new From("next", 0);
    private static final From EARLIEST = new From("earliest", 0);

    private final String keyword;
    private final long offset;

    private From(String keyword, long offset) {
        this.keyword = keyword;
        this.offset = offset;
    }

    /** Only messages published after the reader joined. */
    public static From next() {
        return NEXT;
    }

    /** The oldest message the topic still retains. */
    public static From earliest() {
        return EARLIEST;
    }

    /** The first message at or after {@code offset}, which must be at least 1 (offsets start at 1). */
    public static From offset(long offset) {
        if (offset < 1) {
            throw new IllegalArgumentException("an offset is at least 1, got " + offset);
        }
        return new From(null, offset);
    }

    /** Parses the wire form: {@code next}, {@code earliest} or an offset of at least 1. */
    public static From parse(String text) {
        if ("next".equals(text)) {
            return NEXT;
        }
        if ("earliest".equals(text)) {
            return EARLIEST;
        }
        if (text == null || !text.matches("[0-9]{1,18}") || Long.parseLong(text) < 1) {
            throw new IllegalArgumentException("expected next, earliest or an offset >= 1, got '" + text + "'");
        }
        return offset(Long.parseLong(text));
    }

    /** Whether this is an offset rather than {@code next} or {@code earliest}. */
    public boolean isOffset() {
        return keyword == null;
    }

    public boolean isNext() {
        return this == NEXT;
    }

    /** The offset; 0 for {@code next} and {@code earliest}. */
    public long offsetValue() {
        return offset;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof From f && f.offset == offset && java.util.Objects.equals(f.keyword, keyword);
    }

    @Override
    public int hashCode() {
        return keyword == null ? Long.hashCode(offset) : keyword.hashCode();
    }

    /** The wire form, as in {@code ?from=}. */
    @Override
    public String toString() {
        return isOffset() ? Long.toString(offset) : keyword;
    }
}
