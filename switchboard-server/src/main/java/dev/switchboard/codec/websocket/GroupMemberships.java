package dev.switchboard.codec.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Grants;
import dev.switchboard.codec.Envelope;
import dev.switchboard.codec.JsonBytes;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.groups.GroupService;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A WebSocket connection's consumer-group memberships ({@code subscribe} with a {@code group}, {@code ack}). The
 * connection is the member: the server pushes it up to {@code maxInFlight} unacknowledged messages and more as it
 * acknowledges, and when it closes, whatever it holds goes to the group's other members at once. Runs on the
 * connection's event loop; the groups' thread hands each delivery back to it.
 */
final class GroupMemberships {
    private static final byte[] OP_MESSAGE = JsonBytes.ascii("{\"op\":\"message\",");
    private static final byte[] GROUP = JsonBytes.ascii(",\"group\":");
    private static final byte[] DELIVERIES = JsonBytes.ascii(",\"deliveries\":");

    private final GroupService groups;
    private final Grants grants;
    private final ChannelHandlerContext ctx;
    private final String member;
    /** "topic/group" → membership; a membership is stored once the group accepted it. */
    private final Map<String, GroupService.Membership> joined = new HashMap<>();
    private boolean closed;

    GroupMemberships(GroupService groups, Grants grants, ChannelHandlerContext ctx) {
        this.groups = groups;
        this.grants = grants;
        this.ctx = ctx;
        this.member = "ws-" + ctx.channel().id().asLongText();
    }

    int size() {
        return joined.size();
    }

    /** {@code {"op":"subscribe","topic","group","maxInFlight"}}; {@code reply} sends the answer to the op. */
    void subscribe(String topic, String group, JsonNode maxInFlight, String id,
                   BiConsumer<String, ObjectNode> reply) {
        grants.requireSubscribe(topic);
        if (maxInFlight != null && !maxInFlight.isIntegralNumber()) {
            throw new ApiException(ErrorCode.INVALID_OP, "maxInFlight must be a whole number");
        }
        String key = topic + "/" + group;
        if (joined.containsKey(key)) {
            throw new ApiException(ErrorCode.INVALID_OP, "already a member of group '" + group + "' on '" + topic + "'");
        }
        int inFlight = maxInFlight == null ? 100 : maxInFlight.asInt();
        groups.join(topic, group, member, inFlight, messages -> ctx.executor().execute(() -> push(group, messages)))
                .whenComplete((membership, error) -> ctx.executor().execute(() -> {
                    if (error != null) {
                        reply.accept("error", error(id, error));
                    } else if (closed) {
                        membership.close();
                    } else {
                        joined.put(key, membership);
                        reply.accept("subscribed", fields(id).put("topic", topic).put("group", group)
                                .put("member", member).put("maxInFlight", inFlight));
                    }
                }));
    }

    /** {@code {"op":"unsubscribe","topic","group"}}: leaves the group, giving back what it holds. */
    void unsubscribe(String topic, String group, String id, BiConsumer<String, ObjectNode> reply) {
        GroupService.Membership m = joined.remove(topic + "/" + group);
        if (m == null) {
            throw notMember(topic, group);
        }
        m.close();
        reply.accept("unsubscribed", fields(id).put("topic", topic).put("group", group));
    }

    /** The refusal of an unsubscribe from a group the connection is not a member of. */
    static ApiException notMember(String topic, String group) {
        return new ApiException(ErrorCode.NOT_SUBSCRIBED, "not a member of group '" + group + "' on '" + topic + "'");
    }

    /** {@code {"op":"ack","topic","group","offsets":[…]}}: answered with {@code acked} and {@code stale} offsets. */
    void ack(String topic, String group, JsonNode offsets, String id, BiConsumer<String, ObjectNode> reply) {
        if (offsets == null || !offsets.isArray()) {
            throw new ApiException(ErrorCode.INVALID_OP, "ack needs \"offsets\": an array of offsets");
        }
        long[] values = new long[offsets.size()];
        for (int i = 0; i < values.length; i++) {
            if (!offsets.get(i).isIntegralNumber() || !offsets.get(i).canConvertToLong()) {
                throw new ApiException(ErrorCode.INVALID_OP, "offsets are whole numbers, got " + offsets.get(i));
            }
            values[i] = offsets.get(i).asLong();
        }
        groups.ack(topic, group, member, values).whenComplete((acked, error) -> ctx.executor().execute(() -> {
            if (error != null) {
                reply.accept("error", error(id, error));
                return;
            }
            ObjectNode answer = fields(id).put("topic", topic).put("group", group);
            ArrayNode a = answer.putArray("acked");
            acked.acked().forEach(a::add);
            ArrayNode s = answer.putArray("stale");
            acked.stale().forEach(s::add);
            reply.accept("acked", answer);
        }));
    }

    /** The connection closed: every membership ends and its leases return to the group. */
    void close() {
        closed = true;
        joined.values().forEach(GroupService.Membership::close);
        joined.clear();
    }

    private void push(String group, List<GroupService.Delivered> messages) {
        if (closed) {
            return; // the membership's close gives these back
        }
        for (GroupService.Delivered d : messages) {
            ctx.write(new TextWebSocketFrame(frame(ctx.alloc(), group, d)));
        }
        ctx.flush();
    }

    private static ByteBuf frame(ByteBufAllocator alloc, String group, GroupService.Delivered d) {
        JsonBytes w = JsonBytes.scratch().raw(OP_MESSAGE);
        Envelope.writeFields(w, d.message());
        return w.raw(GROUP).string(group).raw(DELIVERIES).number(d.deliveries()).raw((byte) '}').copyTo(alloc);
    }

    private static ObjectNode fields(String id) {
        ObjectNode n = HttpResponses.MAPPER.createObjectNode();
        if (id != null) {
            n.put("id", id);
        }
        return n;
    }

    private static ObjectNode error(String id, Throwable error) {
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        ObjectNode n = fields(id);
        if (cause instanceof ApiException api) {
            return n.put("code", api.code().wire()).put("message", api.getMessage());
        }
        return n.put("code", ErrorCode.INTERNAL.wire()).put("message", "the group op failed");
    }
}
