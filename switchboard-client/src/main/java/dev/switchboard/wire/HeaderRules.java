package dev.switchboard.wire;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * What a message's headers may be (docs/api.md, "Message envelope"), the same whichever transport brings them (NATS
 * HPUB, HTTP's {@code Switchboard-Header-*}) and checked by clients before sending. Names are HTTP tokens (RFC 9110,
 * 5.6.2), which NATS and HTTP both carry unchanged; values are UTF-8 text without control characters other than tab,
 * so neither a NATS header block nor an HTTP head can be split by one.
 */
public final class HeaderRules {
    /** Name/value pairs per message (a name with three values counts three). */
    public static final int MAX_FIELDS = 64;
    public static final int MAX_NAME_LENGTH = 128;
    /** UTF-8 bytes of one value. */
    public static final int MAX_VALUE_BYTES = 4096;
    /** UTF-8 bytes of every name and value together, each name counted once per value. */
    public static final int MAX_TOTAL_BYTES = 16 * 1024;

    private HeaderRules() {}

    /** @throws ApiException {@code invalid_headers} naming the first rule the headers break */
    public static void validate(Map<String, List<String>> headers) {
        int fields = 0;
        long total = 0;
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            String name = h.getKey();
            if (!isToken(name) || name.length() > MAX_NAME_LENGTH) {
                throw invalid("a header name is 1-" + MAX_NAME_LENGTH + " chars of letters, digits and"
                        + " !#$%&'*+-.^_`|~, got '" + TopicNames.abbreviate(name) + "'");
            }
            if (h.getValue().isEmpty()) {
                throw invalid("header '" + name + "' has no value");
            }
            for (String value : h.getValue()) {
                int bytes = value.getBytes(StandardCharsets.UTF_8).length;
                if (bytes > MAX_VALUE_BYTES) {
                    throw invalid("the value of header '" + name + "' is " + bytes + " bytes; the limit is "
                            + MAX_VALUE_BYTES);
                }
                if (hasControl(value)) {
                    throw invalid("the value of header '" + name + "' holds a control character (CR, LF, NUL…);"
                            + " only tab is allowed");
                }
                total += name.length() + bytes;
                if (++fields > MAX_FIELDS) { // at once: a NATS header block of max_payload bytes holds many
                    throw invalid("the message has more than " + MAX_FIELDS + " header values");
                }
            }
        }
        if (total > MAX_TOTAL_BYTES) {
            throw invalid("the headers take " + total + " bytes; the limit is " + MAX_TOTAL_BYTES);
        }
    }

    /** An RFC 9110 token: one or more of letters, digits and {@code !#$%&'*+-.^_`|~}. */
    public static boolean isToken(String s) {
        if (s == null || s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasControl(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private static ApiException invalid(String message) {
        return new ApiException(ErrorCode.INVALID_HEADERS, message);
    }
}
