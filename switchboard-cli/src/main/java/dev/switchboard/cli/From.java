package dev.switchboard.cli;

/**
 * Where a reader starts: {@code next} (only what is published after it joins), {@code earliest}
 * (the oldest retained message) or an offset N &ge; 1 (the first message at or after N).
 */
record From(String keyword, long offset) {
    static final From NEXT = new From("next", 0);
    static final From EARLIEST = new From("earliest", 0);

    static From parse(String text) {
        return switch (text) {
            case "next" -> NEXT;
            case "earliest" -> EARLIEST;
            default -> {
                if (!text.matches("[0-9]{1,18}") || Long.parseLong(text) < 1) {
                    throw new IllegalArgumentException("expected next, earliest or an offset >= 1, got '" + text + "'");
                }
                yield at(Long.parseLong(text));
            }
        };
    }

    static From at(long offset) {
        return new From(null, offset);
    }

    boolean isOffset() {
        return keyword == null;
    }

    boolean isNext() {
        return NEXT.equals(this);
    }

    /** The wire form, as in {@code ?from=}. */
    @Override
    public String toString() {
        return isOffset() ? Long.toString(offset) : keyword;
    }
}
