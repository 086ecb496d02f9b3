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
