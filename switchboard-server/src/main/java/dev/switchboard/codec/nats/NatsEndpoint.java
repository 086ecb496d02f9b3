package dev.switchboard.codec.nats;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Authenticator;
import dev.switchboard.broker.Broker;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.config.Limits;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.jobs.JobService;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The NATS core protocol port ({@code serve --nats-port}, docs/nats.md): what every NATS connection of a server
 * shares — the engine, delivery, jobs, the node's live subjects and queue groups, the limits announced in INFO.
 */
public final class NatsEndpoint {
    /** nats-server's default, announced in INFO; a longer control line is refused. */
    public static final int MAX_CONTROL_LINE = 4096;
    /** The NATS protocol level spoken (1: the server may send INFO updates, clients may use no_echo). */
    private static final int PROTOCOL = 1;
    /** The nats-server release whose client protocol this port speaks; clients gate features on it. */
    static final String COMPATIBLE_VERSION = "2.9.0";
    static final String OCTET_STREAM = "application/octet-stream";

    final Broker broker;
    final Delivery delivery;
    /** Where {@code _jobs.<queue>} requests become jobs. */
    final JobService jobs;
    final Limits limits;
    final Authenticator authenticator;
    final boolean authRequired;
    final Duration pingInterval;
    final LiveSubjects live;
    private final String serverId = "SB" + UUID.randomUUID().toString().replace("-", "").toUpperCase();
    private final ConcurrentHashMap<String, CopyOnWriteArrayList<Object>> queueGroups = new ConcurrentHashMap<>();

    /**
     * @param authRequired whether CONNECT must carry a token ({@code auth_token}) that {@code authenticator} accepts
     * @param pingInterval how often the server PINGs; a client that answers none of two is closed
     */
    public NatsEndpoint(Broker broker, Delivery delivery, JobService jobs, Limits limits, Authenticator authenticator,
                        boolean authRequired, Duration pingInterval) {
        this.broker = broker;
        this.delivery = delivery;
        this.jobs = jobs;
        this.limits = limits;
        this.authenticator = authenticator;
        this.authRequired = authRequired;
        this.pingInterval = pingInterval;
        this.live = new LiveSubjects(broker);
    }

    /** Adds the NATS handlers to a new connection's pipeline (after the x-ray and connection-limit handlers). */
    public void install(ChannelPipeline p) {
        p.addLast("nats-decoder", new NatsDecoder(MAX_CONTROL_LINE, limits.maxMessageBytes()))
                .addLast("nats", new NatsSession(this));
    }

    /**
     * A connection past a connection limit, if it is a NATS one: told why, as nats-server tells it, and closed.
     * False for any other connection, which is left alone.
     */
    public static boolean refuse(Channel ch, String why) {
        NatsSession session = ch.pipeline().get(NatsSession.class);
        if (session == null) {
            return false;
        }
        session.refuse(why);
        return true;
    }

    /** The INFO line a new connection is greeted with. */
    byte[] info(Channel ch, long clientId) {
        ObjectNode info = HttpResponses.MAPPER.createObjectNode()
                .put("server_id", serverId)
                .put("server_name", "switchboard")
                .put("version", COMPATIBLE_VERSION)
                .put("proto", PROTOCOL)
                .put("go", "switchboard (Java)")
                .put("headers", true)
                .put("max_payload", limits.maxMessageBytes())
                .put("client_id", clientId)
                .put("auth_required", authRequired);
        if (ch.localAddress() instanceof InetSocketAddress local) {
            info.put("host", local.getHostString()).put("port", local.getPort());
        }
        if (ch.remoteAddress() instanceof InetSocketAddress remote) {
            info.put("client_ip", remote.getAddress().getHostAddress());
        }
        return ("INFO " + info + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    // ---- queue groups of stored topics ----

    void joinGroup(String subject, String queue, Object member) {
        queueGroups.computeIfAbsent(subject + " " + queue, k -> new CopyOnWriteArrayList<>()).add(member);
    }

    void leaveGroup(String subject, String queue, Object member) {
        queueGroups.computeIfPresent(subject + " " + queue, (k, members) -> {
            members.remove(member);
            return members.isEmpty() ? null : members;
        });
    }

    /**
     * Whether {@code member} is the one of its group to get the message at {@code offset} of {@code topic}. Every
     * member runs its own cursor and takes only its share, so no member's loop waits for another's; while the group
     * changes, members may disagree on one message (core NATS promises at most once, and a group is live only).
     */
    boolean chosen(String subject, String queue, Object member, String topic, long offset) {
        List<Object> members = queueGroups.get(subject + " " + queue);
        if (members == null || members.isEmpty()) {
            return false;
        }
        int at = (int) Math.floorMod(topic.hashCode() * 31L + offset, (long) members.size());
        try {
            return members.get(at) == member;
        } catch (IndexOutOfBoundsException e) {
            return false; // a member left meanwhile
        }
    }
}
