package dev.switchboard.auth;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.time.Instant;
import java.util.List;

/**
 * What one verified caller may do, from its token's {@code sb} claim (docs/auth.md): topics to publish to and to
 * read, queues to submit to and to work on, admin rights.
 *
 * @param subject    the token's {@code sub}
 * @param validUntil when the token stops being accepted (its {@code exp} plus the clock skew); null: never
 */
public record Grants(String subject, Instant validUntil, List<NamePattern> publish, List<NamePattern> subscribe,
                     List<NamePattern> submit, List<NamePattern> work, boolean admin) {
    private static final List<NamePattern> EVERYTHING = List.of(NamePattern.parse(">"));

    /** A request not (yet) authenticated: may do nothing. */
    public static final Grants NOBODY = new Grants("unauthenticated", null, List.of(), List.of(), List.of(), List.of(),
            false);

    /** The caller of a server without authentication: may do anything, for ever. */
    public static final Grants ANYONE = new Grants("anonymous", null, EVERYTHING, EVERYTHING, EVERYTHING, EVERYTHING,
            true);

    public boolean mayPublish(String topic) {
        return admin || any(publish, topic);
    }

    /** Reading a topic, or its presence ({@code _presence.<topic>}, which follows the topic's right). */
    public boolean maySubscribe(String topic) {
        String readable = topic.startsWith(TopicNames.PRESENCE_PREFIX)
                ? topic.substring(TopicNames.PRESENCE_PREFIX.length()) : topic;
        return admin || any(subscribe, readable);
    }

    /**
     * Following a pattern: one of the token's read rights must cover every topic the pattern can match, including
     * topics not created yet; a presence pattern ({@code _presence.…}) by the right on its topics.
     */
    public boolean maySubscribeAll(NamePattern pattern) {
        if (admin) {
            return true;
        }
        String text = pattern.toString();
        NamePattern readable = text.startsWith(TopicNames.PRESENCE_PREFIX)
                ? NamePattern.parse(text.substring(TopicNames.PRESENCE_PREFIX.length())) : pattern;
        for (NamePattern p : subscribe) {
            if (p.covers(readable)) {
                return true;
            }
        }
        return false;
    }

    public boolean maySubmit(String queue) {
        return admin || any(submit, queue);
    }

    public boolean mayWork(String queue) {
        return admin || any(work, queue);
    }

    public void requirePublish(String topic) {
        if (!mayPublish(topic)) {
            throw refused("publish to topic '" + topic + "'");
        }
    }

    public void requireSubscribe(String topic) {
        if (!maySubscribe(topic)) {
            throw refused("read topic '" + topic + "'");
        }
    }

    public void requireSubscribeAll(NamePattern pattern) {
        if (!maySubscribeAll(pattern)) {
            throw refused("read every topic pattern '" + pattern + "' can match");
        }
    }

    public void requireSubmit(String queue) {
        if (!maySubmit(queue)) {
            throw refused("submit to queue '" + queue + "'");
        }
    }

    public void requireWork(String queue) {
        if (!mayWork(queue)) {
            throw refused("work on queue '" + queue + "'");
        }
    }

    /** Following or cancelling a job: whoever may submit to its queue or work on it. */
    public void requireSubmitOrWork(String queue) {
        if (!(maySubmit(queue) || mayWork(queue))) {
            throw refused("see jobs of queue '" + queue + "'");
        }
    }

    public void requireAdmin(String what) {
        if (!admin) {
            throw refused(what);
        }
    }

    /** Built only when refused: the checks run on every request, and the text is for the refusal alone. */
    private ApiException refused(String what) {
        return new ApiException(ErrorCode.FORBIDDEN, "the token of '" + subject + "' does not allow to " + what);
    }

    private static boolean any(List<NamePattern> patterns, String name) {
        for (NamePattern p : patterns) {
            if (p.matches(name)) {
                return true;
            }
        }
        return false;
    }
}
