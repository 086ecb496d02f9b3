package dev.switchboard.codec.nats;

import dev.switchboard.auth.NamePattern;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.LiveExchange;
import dev.switchboard.wire.TopicNames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * This node's NATS subscriptions by subject, for what is delivered live and never stored: messages on reply subjects
 * ({@code _INBOX.>} and every subject a request named as its reply) and requests (a PUB with a reply subject).
 * Literal subjects are found by a map lookup, wildcard ones by matching each; a queue group gets each message once.
 *
 * <p>With an engine that several nodes share (Redis), live messages cross nodes through its {@link LiveExchange}: a
 * message goes at once to this node's subscriptions outside queue groups and, through the exchange, to every other
 * node's; each queue group gets it on the one node the exchange picked among those with members (docs/nats.md,
 * "Across nodes"). This node listens to the exchange only while it has subscriptions.
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

    /** The other nodes' live messages, or null on an engine of one node. */
    private final LiveExchange exchange;
    private final ConcurrentHashMap<String, CopyOnWriteArrayList<Entry>> literal = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Entry> wildcards = new CopyOnWriteArrayList<>();
    private final Map<String, Boolean> replies = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_REPLIES;
        }
    };

    /** @param engine the engine, whose live exchange (when it has one) carries messages to and from other nodes */
    LiveSubjects(Broker engine) {
        this.exchange = engine.liveExchange(this::heard).orElse(null);
    }

    /**
     * Adds a SUB; completes once other nodes' messages reach it (at once on an engine of one node), which a PING
     * after the SUB waits for.
     */
    CompletableFuture<Void> add(Entry e) {
        String subject = e.pattern().toString();
        if (TopicNames.isPattern(subject)) {
            wildcards.add(e);
        } else {
            literal.computeIfAbsent(subject, s -> new CopyOnWriteArrayList<>()).add(e);
        }
        if (exchange == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> listening = exchange.listen();
        return e.queue() == null ? listening : CompletableFuture.allOf(listening, exchange.join(subject, e.queue()));
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
        if (exchange != null) {
            if (e.queue() != null) {
                exchange.leave(subject, e.queue());
            }
            exchange.unlisten();
        }
    }

    /**
     * A live message published on this node: to this node's subscriptions and, on a shared engine, to every other
     * node's, skipping {@code skipOwner}'s (no_echo; null: none).
     */
    void publish(String subject, String replyTo, byte[] headers, byte[] payload, Object skipOwner) {
        if (replyTo != null) {
            rememberReply(replyTo);
        }
        if (exchange == null) {
            route(subject, replyTo, headers, payload, skipOwner);
            return;
        }
        deliver(subject, replyTo, headers, payload, skipOwner, true, group -> false);
        exchange.send(subject, replyTo, headers, payload).thenAccept(picked -> {
            if (!picked.isEmpty()) {
                deliver(subject, replyTo, headers, payload, skipOwner, false, picked::contains);
            }
        });
    }

    /** Another node's live message: its reply subject is live here too, and the groups picked here get it. */
    private void heard(LiveExchange.Heard m) {
        if (m.replyTo() != null) {
            rememberReply(m.replyTo());
        }
        deliver(m.subject(), m.replyTo(), m.headers(), m.payload(), null, true, m.groupsHere()::contains);
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
     * Offers a message to every matching subscription of this node, one per queue group, skipping {@code skipOwner}'s
     * (no_echo; null: none).
     */
    void route(String subject, String replyTo, byte[] headers, byte[] payload, Object skipOwner) {
        deliver(subject, replyTo, headers, payload, skipOwner, true, group -> true);
    }

    /**
     * Offers a message to the matching subscriptions of this node: those outside queue groups when
     * {@code outsideGroups}, and one member of each queue group that {@code groups} accepts.
     */
    private void deliver(String subject, String replyTo, byte[] headers, byte[] payload, Object skipOwner,
                         boolean outsideGroups, Predicate<String> groups) {
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
        Map<String, List<Entry>> members = new HashMap<>();
        for (Entry e : matched) {
            if (skipOwner != null && e.owner() == skipOwner) {
                continue;
            }
            if (e.queue() != null) {
                if (groups.test(e.queue())) {
                    members.computeIfAbsent(e.queue(), q -> new ArrayList<>()).add(e);
                }
            } else if (outsideGroups) {
                e.offer(subject, replyTo, headers, payload);
            }
        }
        for (List<Entry> group : members.values()) {
            group.get(ThreadLocalRandom.current().nextInt(group.size())).offer(subject, replyTo, headers, payload);
        }
    }
}
