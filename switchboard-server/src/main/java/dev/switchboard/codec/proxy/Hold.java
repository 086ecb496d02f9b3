package dev.switchboard.codec.proxy;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.TopicNames;
import java.time.Duration;

/**
 * An upstream's {@code Switchboard-Hold} answer (docs/sidecar.md): {@code stream; topic=T; from=N|next} or
 * {@code long-poll; topic=T; from=N|next; timeout=D}.
 *
 * @param from {@code next}, {@code earliest} or an offset, as the API's {@code from=}
 */
record Hold(boolean stream, String topic, String from, Duration timeout) {
    static final String HEADER = "Switchboard-Hold";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /** @throws IllegalArgumentException with what is wrong, for the client's 502 */
    static Hold parse(String value, Duration maxWait) {
        String[] parts = value.split(";");
        String kind = parts[0].trim();
        if (!kind.equals("stream") && !kind.equals("long-poll")) {
            throw new IllegalArgumentException("the hold is 'stream' or 'long-poll', got '" + kind + "'");
        }
        String topic = null;
        String from = "next";
        Duration timeout = DEFAULT_TIMEOUT;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            String name = eq < 0 ? p : p.substring(0, eq).trim();
            String v = eq < 0 ? "" : p.substring(eq + 1).trim();
            switch (name) {
                case "topic" -> topic = v;
                case "from" -> from = v;
                case "timeout" -> timeout = duration(v);
                default -> throw new IllegalArgumentException("unknown hold parameter '" + name + "'");
            }
        }
        if (topic == null) {
            throw new IllegalArgumentException("the hold names no topic");
        }
        try {
            TopicNames.validate(topic);
        } catch (ApiException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        if (!from.equals("next") && !from.equals("earliest") && !from.matches("[1-9][0-9]{0,18}")) {
            throw new IllegalArgumentException("from is next, earliest or an offset >= 1, got '" + from + "'");
        }
        if (timeout.isZero() || timeout.compareTo(maxWait) > 0) {
            throw new IllegalArgumentException("timeout must be more than 0 and at most "
                    + Durations.format(maxWait) + " (--max-wait)");
        }
        return new Hold(kind.equals("stream"), topic, from, timeout);
    }

    private static Duration duration(String text) {
        try {
            return Durations.parse(text, "timeout");
        } catch (ApiException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** The target of Switchboard's own endpoint that serves this hold. */
    String target() {
        String base = "/v1/topics/" + topic;
        return stream ? base + "/events?from=" + from
                : base + "/messages?from=" + from + "&wait=" + timeout.toMillis() + "ms";
    }
}
