package dev.switchboard.codec.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.codec.Envelope;
import dev.switchboard.codec.JsonBytes;
import dev.switchboard.groups.GroupService;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Consumer groups over HTTP (docs/api.md, "Consumer groups"): fetch, ack, and a group's position. A member names
 * itself with {@code member=}: HTTP clients pool and replace connections, so a connection is no identity to hold
 * leases by; a member that reconnects, or acknowledges over another connection, stays the same member.
 */
public final class GroupEndpoints {
    private static final byte[] MESSAGES = JsonBytes.ascii("{\"messages\":[");
    private static final byte[] DELIVERIES = JsonBytes.ascii(",\"deliveries\":");

    private final GroupService groups;
    private final Duration maxWait;

    public GroupEndpoints(GroupService groups, Duration maxWait) {
        this.groups = groups;
        this.maxWait = maxWait;
    }

    /** {@code POST /v1/topics/{t}/groups/{g}/fetch?member=&max=&wait=}: {@code {"messages":[envelope + deliveries]}}. */
    public void fetch(Exchange ex, String topic, String group) {
        String maxText = ex.query("max");
        int max;
        try {
            max = maxText == null ? 1 : Integer.parseInt(maxText);
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.INVALID_LIMIT, "max must be a whole number");
        }
        String waitText = ex.query("wait");
        Duration wait = waitText == null ? Duration.ZERO : Durations.parse(waitText, "wait");
        if (wait.compareTo(maxWait) > 0) {
            throw new ApiException(ErrorCode.INVALID_DURATION, "wait may be at most " + Durations.format(maxWait));
        }
        ex.respondWhenDone(groups.fetch(topic, group, ex.query("member"), max, wait), wait,
                messages -> ex.respond(HttpResponses.withBody(HttpResponseStatus.OK, messagesJson(ex, messages),
                        "application/json")));
    }

    /** {@code POST /v1/topics/{t}/groups/{g}/ack?member=} with {@code {"offsets":[…]}}: {@code {"acked","stale"}}. */
    public void ack(Exchange ex, String topic, String group) {
        long[] offsets = offsets(ByteBufUtil.getBytes(ex.request().content()));
        ex.respondWhenDone(groups.ack(topic, group, ex.query("member"), offsets),
                done -> respondOffsets(ex, "acked", done));
    }

    /** {@code POST /v1/topics/{t}/groups/{g}/release?member=} with {@code {"offsets":[…]}}: {@code {"released","stale"}}. */
    public void release(Exchange ex, String topic, String group) {
        long[] offsets = offsets(ByteBufUtil.getBytes(ex.request().content()));
        ex.respondWhenDone(groups.release(topic, group, ex.query("member"), offsets),
                done -> respondOffsets(ex, "released", done));
    }

    private static void respondOffsets(Exchange ex, String field, GroupService.Acked done) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put(field, done.acked());
        body.put("stale", done.stale());
        ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, body));
    }

    /** {@code GET /v1/topics/{t}/groups/{g}}: {@code {"topic","group","committed","lag","inFlight","members"}}. */
    public void status(Exchange ex, String topic, String group) {
        ex.respondWhenDone(groups.status(topic, group), s -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("topic", s.topic());
            body.put("group", s.group());
            body.put("committed", s.committed());
            body.put("lag", s.lag());
            body.put("inFlight", s.inFlight());
            body.put("members", s.members());
            ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, body));
        });
    }

    private static long[] offsets(byte[] body) {
        JsonNode offsets;
        try {
            JsonNode n = HttpResponses.MAPPER.readTree(body);
            offsets = n == null || !n.isObject() ? null : n.get("offsets");
        } catch (IOException e) {
            offsets = null;
        }
        if (offsets == null || !offsets.isArray()) {
            throw new ApiException(ErrorCode.INVALID_JSON, "expected {\"offsets\":[offset, …]}");
        }
        long[] result = new long[offsets.size()];
        for (int i = 0; i < result.length; i++) {
            JsonNode o = offsets.get(i);
            if (!o.canConvertToLong() || !o.isIntegralNumber()) {
                throw new ApiException(ErrorCode.INVALID_JSON, "offsets are whole numbers, got " + o);
            }
            result[i] = o.asLong();
        }
        return result;
    }

    private static ByteBuf messagesJson(Exchange ex, List<GroupService.Delivered> messages) {
        JsonBytes w = JsonBytes.scratch().raw(MESSAGES);
        for (int i = 0; i < messages.size(); i++) {
            GroupService.Delivered d = messages.get(i);
            if (i > 0) {
                w.raw((byte) ',');
            }
            w.raw((byte) '{');
            Envelope.writeFields(w, d.message());
            w.raw(DELIVERIES).number(d.deliveries()).raw((byte) '}');
        }
        return w.raw((byte) ']').raw((byte) '}').copyTo(ex.ctx().alloc());
    }
}
