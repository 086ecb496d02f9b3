package dev.switchboard.auth;

import dev.switchboard.wire.TopicNames;

/**
 * A pattern over topic or queue names (dot-separated segments): {@code *} matches one segment, {@code >} as the last
 * segment matches one or more. {@code chat.*} matches {@code chat.room} but not {@code chat.room.1};
 * {@code chat.>} matches both, but not {@code chat} itself.
 */
public final class NamePattern {
    private final String text;
    private final String[] segments;

    private NamePattern(String text, String[] segments) {
        this.text = text;
        this.segments = segments;
    }

    /** Parses a pattern; refuses an empty segment, a {@code >} that is not last, and characters names cannot hold. */
    public static NamePattern parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 255) {
            throw new IllegalArgumentException("a pattern is 1-255 characters");
        }
        String[] segments = text.split("\\.", -1);
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean wildcard = s.equals("*") || s.equals(">");
            if (s.equals(">") && i != segments.length - 1) {
                throw new IllegalArgumentException("'>' may only be the last segment of '" + text + "'");
            }
            if (!wildcard && (s.isEmpty() || !s.chars().allMatch(NamePattern::nameChar))) {
                throw new IllegalArgumentException("'" + text + "' is not a pattern of [A-Za-z0-9_-] segments, '*' and '>'");
            }
        }
        return new NamePattern(text, segments);
    }

    private static boolean nameChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    /** Whether {@code name} is a valid name that this pattern covers; an invalid name is never covered. */
    public boolean matches(String name) {
        if (!TopicNames.isValid(name)) {
            return false;
        }
        int segment = 0;
        int start = 0;
        while (segment < segments.length) {
            String p = segments[segment];
            if (p.equals(">")) {
                return start < name.length(); // at least one segment left
            }
            if (start > name.length()) {
                return false;
            }
            int end = name.indexOf('.', start);
            if (end < 0) {
                end = name.length();
            }
            if (end == start) {
                return false;
            }
            if (!p.equals("*") && (end - start != p.length() || !name.regionMatches(start, p, 0, p.length()))) {
                return false;
            }
            segment++;
            start = end + 1;
        }
        return start == name.length() + 1;
    }

    /**
     * Whether a subscription by this pattern reaches {@code topic}: it matches it, and a reserved topic ({@code _jobs},
     * {@code _presence}) only when the pattern itself starts with {@code _}, so a leading wildcard never lands in them.
     */
    public boolean reaches(String topic) {
        return matches(topic) && (text.startsWith("_") || !topic.startsWith("_"));
    }

    /**
     * Whether every name {@code other} can match, this matches too: how a token's right is checked against a whole
     * subscription pattern, before any topic it may match exists.
     */
    public boolean covers(NamePattern other) {
        for (int i = 0; i < segments.length; i++) {
            String mine = segments[i];
            if (mine.equals(">")) {
                return i < other.segments.length; // one or more segments left on the other side, whatever they are
            }
            if (i >= other.segments.length) {
                return false;
            }
            String theirs = other.segments[i];
            boolean same = mine.equals("*") ? !theirs.equals(">") : mine.equals(theirs) && !theirs.equals("*")
                    && !theirs.equals(">");
            if (!same) {
                return false;
            }
        }
        return segments.length == other.segments.length;
    }

    @Override
    public String toString() {
        return text;
    }
}
