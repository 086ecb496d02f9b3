package dev.switchboard.wire;

/** Topic names: 1–255 chars of {@code [A-Za-z0-9_-]} segments joined by {@code .} (docs/api.md, "Conventions"). */
public final class TopicNames {
    public static final int MAX_LENGTH = 255;
    /** Join and leave events of topic {@code t} are on {@code _presence.t} (docs/api.md, "Presence"). */
    public static final String PRESENCE_PREFIX = "_presence.";

    private TopicNames() {}

    public static String validate(String name) {
        if (!isValid(name)) {
            throw new ApiException(ErrorCode.INVALID_TOPIC,
                    "topic name must be 1-255 chars of [A-Za-z0-9_-] segments joined by '.', got '"
                            + abbreviate(name) + "'");
        }
        return name;
    }

    /**
     * Whether {@code text} has a {@code *} or {@code >} segment: a pattern of many topics (docs/api.md, WebSocket
     * patterns) rather than one name. Whether it is a well-formed pattern is the server's to say.
     */
    public static boolean isPattern(String text) {
        return text.equals("*") || text.equals(">") || text.startsWith("*.") || text.startsWith(">.")
                || text.contains(".*") || text.endsWith(".>");
    }

    public static boolean isValid(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_LENGTH) {
            return false;
        }
        boolean segmentEmpty = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (segmentEmpty) {
                    return false;
                }
                segmentEmpty = true;
            } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                segmentEmpty = false;
            } else {
                return false;
            }
        }
        return !segmentEmpty;
    }

    public static String abbreviate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
