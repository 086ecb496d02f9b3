package dev.switchboard.codec.nats;

import dev.switchboard.auth.NamePattern;
import dev.switchboard.wire.TopicNames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * This node's NATS subscriptions by subject, for what is delivered live and never stored: messages on reply subjects
 * ({@code _INBOX.>} and every subject a request named as its reply) and requests (a PUB with a reply subject).
 * Literal subjects are found by a map lookup, wildcard ones by matching each; a queue group gets each message once.
 *
 * <p>Threads: any. Sessions add and remove from their loops; a publish routes from its publisher's loop (or the
 * jobs' thread) and each receiving session takes the message on its own loop.
 */
final class LiveSubjects {
    /** Reply subjects remembered at most: the oldest is forgotten first (its replier has long answered). */
    private static final int REMEMBERED_REPLIES = 100_000;

    /** One SUB as the router sees it. */
    interface Entry {
        NamePattern pattern();

        /** The queue group, or null. */
        String queue();

        /** Which connection it belongs to, for no_echo. */
        Object owner();

        /**
         * Any thread: hands the message to the entry's loop (or drops it when that connection is full).
         *
         * @param headers the NATS header block as published, or null
         */
        void offer(String subject, String replyTo, byte[] headers, byte[] payload);
    }

    private final ConcurrentHashMap<String, CopyOnWriteArrayList<Entry>> literal = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Entry> wildcards = new CopyOnWriteArrayList<>();
    private final Map<String, Boolean> replies = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_REPLIES;
        }
    };

    void add(Entry e) {
        String subject = e.pattern().toString();
        if (TopicNames.isPattern(subject)) {
            wildcards.add(e);
        } else {
            literal.computeIfAbsent(subject, s -> new CopyOnWriteArrayList<>()).add(e);
        }
    }

    void remove(Entry e) {
        String subject = e.pattern().toString();
        if (TopicNames.isPattern(subject)) {
            wildcards.remove(e);
        } else {
            literal.computeIfPresent(subject, (s, list) -> {
                list.remove(e);
                return list.isEmpty() ? null : list;
            });
        }
    }

    /** A request named {@code subject} as its reply: a message to it is live, never stored. */
    void rememberReply(String subject) {
        synchronized (replies) {
            replies.put(subject, Boolean.TRUE);
        }
    }

    boolean isReply(String subject) {
        if (subject.startsWith("_INBOX.")) {
            return true;
        }
        synchronized (replies) {
            return replies.containsKey(subject);
        }
    }

    /**
     * Offers a message to every matching subscription, one per queue group, skipping {@code skipOwner}'s (no_echo;
     * null: none). Returns how many subscriptions were offered it.
     */
    int route(String subject, String replyTo, byte[] headers, byte[] payload, Object skipOwner) {
        List<Entry> matched = new ArrayList<>();
        List<Entry> exact = literal.get(subject);
        if (exact != null) {
            matched.addAll(exact);
        }
        for (Entry e : wildcards) {
            if (e.pattern().matches(subject)) {
                matched.add(e);
            }
        }
        Map<String, List<Entry>> groups = new HashMap<>();
        int offered = 0;
        for (Entry e : matched) {
            if (skipOwner != null && e.owner() == skipOwner) {
                continue;
            }
            if (e.queue() != null) {
                groups.computeIfAbsent(e.queue(), q -> new ArrayList<>()).add(e);
            } else {
                e.offer(subject, replyTo, headers, payload);
                offered++;
            }
        }
        for (List<Entry> members : groups.values()) {
            members.get(ThreadLocalRandom.current().nextInt(members.size())).offer(subject, replyTo, headers, payload);
            offered++;
        }
        return offered;
    }
}
