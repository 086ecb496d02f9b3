package dev.switchboard.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.wire.Durations;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@link GroupMember} over {@link Rest}. Fetches and acks are retried like reads: a fetch whose answer was lost
 * leaves leases that expire and go to another member, and an ack repeated is answered as stale, so neither loses or
 * doubles work.
 */
final class GroupMemberImpl implements GroupMember {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private final Rest rest;
    private final String topic;
    private final String group;
    private final String member;
    private final String base;

    GroupMemberImpl(Rest rest, String topic, String group, String member) {
        name(group, "a group name");
        name(member, "a member name");
        this.rest = rest;
        this.topic = topic;
        this.group = group;
        this.member = member;
        this.base = "/v1/topics/" + topic + "/groups/" + group;
    }

    private static void name(String name, String what) {
        java.util.Objects.requireNonNull(name, what);
        if (!NAME.matcher(name).matches()) {
            throw (InvalidRequestException) Errors.of("invalid_group", 0, what + " is 1-64 chars of [A-Za-z0-9_.-], got '"
                    + Json.abbreviate(name) + "'");
        }
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String group() {
        return group;
    }

    @Override
    public String member() {
        return member;
    }

    @Override
    public List<GroupMessage> fetch(int max, Duration wait) {
        if (max < 1 || max > 1000) {
            throw (InvalidRequestException) Errors.of("invalid_limit", 0, "max must be 1 to 1000, got " + max);
        }
        if (wait.isNegative() || wait.compareTo(Client.MAX_WAIT) > 0) {
            throw (InvalidRequestException) Errors.of("invalid_duration", 0, "wait must be 0 to 5m, got " + wait);
        }
        String path = base + "/fetch?member=" + member + "&max=" + max + "&wait=" + Durations.format(wait);
        return Rest.join(rest.send(server -> rest.request(server, path).POST(HttpRequest.BodyPublishers.noBody()),
                Rest.Retry.SAFE, wait, 200).thenApply(a -> Json.groupMessages(a.body())));
    }

    @Override
    public List<Long> ack(long... offsets) {
        return settle("ack", "acked", offsets);
    }

    @Override
    public List<Long> release(long... offsets) {
        return settle("release", "released", offsets);
    }

    /** An ack or a release: {@code {"offsets":[…]}} posted, the offsets the server took answered. */
    private List<Long> settle(String call, String answered, long... offsets) {
        if (offsets.length == 0) {
            return List.of();
        }
        StringBuilder body = new StringBuilder("{\"offsets\":[");
        for (int i = 0; i < offsets.length; i++) {
            body.append(i == 0 ? "" : ",").append(offsets[i]);
        }
        String json = body.append("]}").toString();
        return Rest.join(rest.send(server -> rest.request(server, base + "/" + call + "?member=" + member)
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)),
                Rest.Retry.SAFE, Duration.ZERO, 200).thenApply(a -> {
                    List<Long> taken = new ArrayList<>();
                    Json.tree(a.body()).path(answered).forEach(n -> taken.add(n.asLong()));
                    return taken;
                }));
    }

    @Override
    public GroupStatus status() {
        return Rest.join(rest.send(server -> rest.request(server, base).GET(), Rest.Retry.SAFE, Duration.ZERO, 200)
                .thenApply(a -> {
                    JsonNode n = Json.tree(a.body());
                    return new GroupStatus(n.path("committed").asLong(), n.path("lag").asLong(),
                            n.path("inFlight").asInt(), n.path("members").asInt());
                }));
    }
}
