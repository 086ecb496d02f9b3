package dev.switchboard.presence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Transaction;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.Payloads;
import dev.switchboard.wire.TopicNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Presence (docs/api.md, "Presence"): each push subscription to a client topic is a {@link Member} from its start to
 * its end. Members are kept in memory for {@link #present}; each join and leave is also one transaction that appends
 * an event to {@code _presence.<topic>} and keeps a record of the member, under this node's id, while it is present.
 * Records whose node is gone name the members it lost without a goodbye: their leave is announced, so a follower of
 * the events never keeps a ghost.
 *
 * <p>Which nodes are gone: on an engine of its own (the embedded log) every node but this one, when it opens. On a
 * shared engine (Redis, several nodes) a node is alive while its heartbeat record is fresh: each node renews its
 * own every third of {@link #NODE_TTL} and sweeps, when it opens and then every {@link #NODE_TTL}, the members of
 * nodes whose heartbeat ran out. A node that starts never takes a live node's members for lost.
 */
public final class Presence implements AutoCloseable {
    /** How long a node's heartbeat keeps its members present without renewal (shared engines). */
    public static final Duration NODE_TTL = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(Presence.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * {@code presence/<topic>/<node>/<connection>}: a member, by the node that holds its connection. The topic comes
     * first so that engines which shard by topic keep the record with the topic's events (Transaction.Stage#putRecord).
     */
    private static final String RECORDS = "presence/";
    /** {@code presence-nodes/<node>}: when the node's heartbeat runs out (ms), on shared engines. */
    private static final String NODES = "presence-nodes/";
    private static final String TYPE = "application/json";
    /** Tries of one change refused because another node's overtook it (or the engine was briefly unavailable). */
    private static final int ATTEMPTS = 16;
    private static final CompletableFuture<Void> STORED = CompletableFuture.completedFuture(null);

    private final Broker broker;
    private final String node = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    private final Duration ttl;
    private final Map<String, Map<String, Member>> byTopic = new ConcurrentHashMap<>();
    /** Joins not yet stored (or given up), by connection: a member's leave waits for its join. */
    private final Map<String, CompletableFuture<Void>> joining = new ConcurrentHashMap<>();
    /** Heartbeats and sweeps on a shared engine; null on an engine of our own. */
    private final ScheduledExecutorService timer;

    private Presence(Broker broker, Duration ttl) {
        this.broker = broker;
        this.ttl = ttl;
        this.timer = broker.shared() ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "presence-heartbeat");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /** Presence over {@code broker}, first announcing the leave of every member a gone node left present. */
    public static Presence open(Broker broker) {
        return open(broker, NODE_TTL);
    }

    /** As {@link #open(Broker)} with a heartbeat lifetime of {@code ttl} (tests shorten it). */
    static Presence open(Broker broker, Duration ttl) {
        Presence p = new Presence(broker, ttl);
        p.heartbeat();
        p.sweep();
        if (p.timer != null) {
            long renew = ttl.toMillis() / 3;
            p.timer.scheduleAtFixedRate(p::heartbeat, renew, renew, TimeUnit.MILLISECONDS);
            p.timer.scheduleWithFixedDelay(p::sweepLogged, ttl.toMillis(), ttl.toMillis(), TimeUnit.MILLISECONDS);
        }
        return p;
    }

    /** Stops this node's heartbeat: on a shared engine its members count as lost once it runs out. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** One subscriber of a topic, present from {@code since}. */
    public record Member(String topic, String subject, String connection, String transport, String since) {}

    /**
     * A subscriber joined {@code topic}; the returned member leaves with {@link #leave}. The server's own topics
     * ({@code _…}) have no presence: null.
     */
    public Member join(String topic, String subject, String transport) {
        if (topic.startsWith("_")) {
            return null;
        }
        Member m = new Member(topic, subject, UUID.randomUUID().toString(), transport,
                Payloads.formatTime(Instant.now().toEpochMilli()));
        byTopic.computeIfAbsent(topic, t -> new ConcurrentHashMap<>()).put(m.connection(), m);
        CompletableFuture<Void> stored = new CompletableFuture<>();
        joining.put(m.connection(), stored);
        stored.whenComplete((v, e) -> joining.remove(m.connection(), stored));
        announce(m, "join", recordKey(node, m), stored);
        return m;
    }

    /** The member's subscription ended; null (no presence) is ignored. */
    public void leave(Member m) {
        if (m == null) {
            return;
        }
        byTopic.computeIfPresent(m.topic(), (t, members) -> {
            members.remove(m.connection());
            return members.isEmpty() ? null : members;
        });
        // after its join is stored or given up: a join staged again must not land after the leave
        joining.getOrDefault(m.connection(), STORED).whenComplete((v, e) ->
                announce(m, "leave", recordKey(node, m), new CompletableFuture<>()));
    }

    /** Who is subscribed to {@code topic} on this node now, longest present first. */
    public List<Member> present(String topic) {
        return byTopic.getOrDefault(topic, Map.of()).values().stream()
                .sorted(Comparator.comparing(Member::since)).toList();
    }

    private static String recordKey(String node, Member m) {
        return RECORDS + m.topic() + "/" + node + "/" + m.connection();
    }

    private void heartbeat() {
        if (timer == null) {
            return;
        }
        submit("heartbeat of node " + node, s -> s.putRecord(NODES + node,
                Long.toString(s.now() + ttl.toMillis()).getBytes(StandardCharsets.US_ASCII)));
    }

    private void sweepLogged() {
        try {
            sweep();
        } catch (RuntimeException e) { // a scheduled task that throws is never run again
            log.warn("presence sweep failed; retrying in {}", ttl, e);
        }
    }

    /** Announces the leave of every member whose node is gone, and forgets gone nodes' heartbeats. */
    private void sweep() {
        long now = System.currentTimeMillis();
        Set<String> alive = new HashSet<>();
        alive.add(node);
        for (Broker.Record r : broker.recordsWithPrefix(NODES)) {
            String other = r.key().substring(NODES.length());
            if (timer != null && expiry(r) > now) {
                alive.add(other);
            } else if (!other.equals(node)) {
                submit("removal of node " + other, s -> s.deleteRecord(r.key()));
            }
        }
        for (Broker.Record r : broker.recordsWithPrefix(RECORDS)) {
            // presence/<topic>/<node>/<connection>; records of earlier layouts name no live node: gone too
            String[] parts = r.key().substring(RECORDS.length()).split("/");
            if (parts.length == 3 && alive.contains(parts[1])) {
                continue;
            }
            try {
                announce(JSON.readValue(r.value(), Member.class), "leave", r.key(), new CompletableFuture<>());
            } catch (IOException e) {
                log.warn("dropping unreadable presence record {}", r.key(), e);
                submit("removal of " + r.key(), s -> s.deleteRecord(r.key()));
            }
        }
    }

    private static long expiry(Broker.Record r) {
        try {
            return Long.parseLong(new String(r.value(), StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Stores the member's event and record; {@code done} completes once it is stored or given up. */
    private void announce(Member m, String event, String key, CompletableFuture<Void> done) {
        ObjectNode body = JSON.createObjectNode().put("event", event).put("topic", m.topic())
                .put("subject", m.subject()).put("connection", m.connection()).put("transport", m.transport())
                .put("since", m.since());
        byte[] record;
        try {
            record = JSON.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a presence record", e);
        }
        boolean joining = event.equals("join");
        submit("presence " + event + " of " + m.connection() + " on '" + m.topic() + "'", done, s -> {
            body.put("time", Payloads.formatTime(s.now()));
            s.append(TopicNames.PRESENCE_PREFIX + m.topic(), TYPE, body.toString().getBytes(StandardCharsets.UTF_8));
            if (joining) {
                s.putRecord(key, record);
            } else {
                s.deleteRecord(key);
            }
        });
    }

    /**
     * Stores one change; a refusal or failure is logged, never thrown at the subscriber it describes. On a shared
     * engine a change is refused {@code unavailable} when another node's change to the same presence topic overtook
     * it (an optimistic transaction): many members leaving several nodes at once do that, so there such a refusal is
     * staged again from the heartbeat's thread, up to {@link #ATTEMPTS} times in all, before the event is given up.
     */
    private void submit(String what, Consumer<Transaction.Stage> change) {
        submit(what, new CompletableFuture<>(), change);
    }

    private void submit(String what, CompletableFuture<Void> done, Consumer<Transaction.Stage> change) {
        submit(what, done, change, 1);
    }

    private void submit(String what, CompletableFuture<Void> done, Consumer<Transaction.Stage> change, int attempt) {
        try {
            broker.submit(new Transaction() {
                @Override
                public void stage(Stage s) {
                    change.accept(s);
                }

                @Override
                public void committed() {
                    done.complete(null);
                }

                @Override
                public void failed(ApiException error) {
                    if (timer == null || error.code() != ErrorCode.UNAVAILABLE || attempt >= ATTEMPTS) {
                        giveUp(what, error, done);
                        return;
                    }
                    try {
                        timer.execute(() -> submit(what, done, change, attempt + 1));
                    } catch (RejectedExecutionException closed) {
                        giveUp(what, error, done);
                    }
                }
            });
        } catch (ApiException e) {
            giveUp(what, e, done);
        }
    }

    private static void giveUp(String what, ApiException error, CompletableFuture<Void> done) {
        log.warn("{} not stored: {}", what, error.getMessage());
        done.complete(null);
    }
}
