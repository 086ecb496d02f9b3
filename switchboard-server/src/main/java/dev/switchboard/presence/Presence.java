package dev.switchboard.presence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Transaction;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Payloads;
import dev.switchboard.wire.TopicNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Presence (docs/api.md, "Presence"): each push subscription to a client topic is a {@link Member} from its start to
 * its end. Members are kept in memory for {@link #present}; each join and leave is also one transaction that appends
 * an event to {@code _presence.<topic>} and keeps a record of the member while it is present. After a restart those
 * records name the members the node lost without a goodbye: {@link #open} announces their leave, so a follower of
 * the events never keeps a ghost.
 */
public final class Presence {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RECORDS = "presence/";
    private static final String TYPE = "application/json";

    private final Broker broker;
    private final Map<String, Map<String, Member>> byTopic = new ConcurrentHashMap<>();

    private Presence(Broker broker) {
        this.broker = broker;
    }

    /** Presence over {@code broker}, first announcing the leave of every member a previous run left present. */
    public static Presence open(Broker broker) {
        Presence p = new Presence(broker);
        for (Broker.Record r : broker.recordsWithPrefix(RECORDS)) {
            try {
                Member lost = JSON.readValue(r.value(), Member.class);
                p.announce(lost, "leave");
            } catch (IOException e) {
                log.warn("dropping unreadable presence record {}", r.key(), e);
            }
        }
        return p;
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
        announce(m, "join");
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
        announce(m, "leave");
    }

    /** Who is subscribed to {@code topic} on this node now, longest present first. */
    public List<Member> present(String topic) {
        return byTopic.getOrDefault(topic, Map.of()).values().stream()
                .sorted(Comparator.comparing(Member::since)).toList();
    }

    private void announce(Member m, String event) {
        ObjectNode body = JSON.createObjectNode().put("event", event).put("topic", m.topic())
                .put("subject", m.subject()).put("connection", m.connection()).put("transport", m.transport())
                .put("since", m.since());
        byte[] record;
        try {
            record = JSON.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a presence record", e);
        }
        String key = RECORDS + m.topic() + "/" + m.connection();
        boolean joining = event.equals("join");
        try {
            broker.submit(new Transaction() {
                @Override
                public void stage(Stage s) {
                    body.put("time", Payloads.formatTime(s.now()));
                    s.append(TopicNames.PRESENCE_PREFIX + m.topic(), TYPE,
                            body.toString().getBytes(StandardCharsets.UTF_8));
                    if (joining) {
                        s.putRecord(key, record);
                    } else {
                        s.deleteRecord(key);
                    }
                }

                @Override
                public void committed() {}

                @Override
                public void failed(ApiException error) {
                    log.warn("presence {} of {} on '{}' not stored: {}", event, m.connection(), m.topic(),
                            error.getMessage());
                }
            });
        } catch (ApiException e) {
            log.warn("presence {} of {} on '{}' not stored: {}", event, m.connection(), m.topic(), e.getMessage());
        }
    }
}
