package dev.switchboard.codec.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Grants;
import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.codec.BurstWriter;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.config.Limits;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.SharedEncoding;
import dev.switchboard.fanout.SlowConsumerGuard;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.groups.GroupService;
import dev.switchboard.presence.Presence;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.channel.ChannelFutureListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * One WebSocket connection speaking docs/api.md's JSON ops: subscribe, unsubscribe, publish. It is the push end of each of
 * its subscriptions; a message goes out as the message's shared, pre-built text frame (encoded once for every
 * subscriber, docs/architecture.md, "Encode once"). Liveness by ping/pong; a reader that stays unwritable past the slow-consumer
 * timeout is closed with code 4008 and a reason naming where to resume. Publishes in flight per connection are
 * bounded: past the bound the connection stops reading, which slows the producer through TCP.
 *
 * <p>The caller's token was verified once, at the upgrade; each op is checked against its {@link Grants} (a pattern
 * match, no signature), and when the token expires the connection is closed with code 4001 {@code token_expired}:
 * the client gets a new token and resumes from its offsets.
 *
 * <p>Its subscriptions are kept by {@link TopicSubscriptions}, {@link PatternSubscriptions} and
 * {@link GroupMemberships} (the last two built on first use); the session reads the ops and is the push end of
 * them all, and the {@link SubscriptionHost} the first two share.
 */
final class WebSocketSession extends ChannelInboundHandlerAdapter implements SubscriptionHost {
    static final int SLOW_CONSUMER = 4008;
    static final int TOKEN_EXPIRED = 4001;
    private static final int MAX_PUBLISHES_IN_FLIGHT = 256;

    private final Broker broker;
    private final Delivery delivery;
    private final Limits limits;
    private final Duration pingInterval;
    private final Grants grants;
    private final PublishLimiter.Budget publishBudget;
    private final Presence presence;
    private final GroupService groups;
    /** Its subscriptions to single topics. */
    private TopicSubscriptions topics;
    /**
     * The consumer groups this connection is a member of (subscribe ops with a group); null until its first group op,
     * as most connections never make one.
     */
    private GroupMemberships memberships;
    /** Its subscriptions by topic pattern ({@code chat.*}), each following many topics; null until its first. */
    private PatternSubscriptions patterns;
    private ChannelHandlerContext ctx;
    private ConnectionStats stats;
    private BurstWriter burst;
    private SlowConsumerGuard slowGuard;
    private ScheduledFuture<?> pingTimer;
    private ScheduledFuture<?> expiryTimer;
    private long lastHeardNanos = System.nanoTime();
    private int publishesInFlight;
    /** Subscribes waiting for their feeds ({@link #holdOps}); while any is, ops wait in {@link #waitingOps}. */
    private int heldBy;
    private final ArrayDeque<Runnable> waitingOps = new ArrayDeque<>();
    private boolean closed;
    /** Bytes a message may have in all its fragments. */
    private final int maxMessageBytes;
    /** A message arriving in fragments, null between messages (and so on an idle connection). */
    private FragmentedMessage fragments;
    /** The client broke the protocol: the connection is closing and reads nothing more. */
    private boolean failed;

    WebSocketSession(Broker broker, Delivery delivery, Limits limits, Duration pingInterval, int maxMessageBytes,
                     Grants grants, PublishLimiter.Budget publishBudget,
                     Presence presence, GroupService groups) {
        this.maxMessageBytes = maxMessageBytes;
        this.groups = groups;
        this.grants = grants;
        this.presence = presence;
        this.publishBudget = publishBudget;
        this.broker = broker;
        this.delivery = delivery;
        this.limits = limits;
        this.pingInterval = pingInterval;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        stats = ConnectionStats.of(ctx.channel());
        stats.use(Transport.WS);
        stats.subscriptions(new ConnectionStats.SubscriptionSource() {
            @Override
            public List<ConnectionStats.SubscriptionView> subscriptions() {
                List<ConnectionStats.SubscriptionView> views = new ArrayList<>();
                forEachTopic((topic, s) -> views.add(view(topic, s)));
                return views;
            }

            @Override
            public void addLag(long[] sumAndMax) {
                topics.addLag(sumAndMax);
                if (patterns != null && patterns.patternCount() > 0) {
                    patterns.forEachTopic((topic, s) -> ConnectionStats.SubscriptionView.addLag(sumAndMax, lag(s)));
                }
            }
        });
        topics = new TopicSubscriptions(this, presence);
        slowGuard = new SlowConsumerGuard(ctx.channel(), limits.slowConsumerTimeout(), this::closeSlow);
        long every = pingInterval.toNanos();
        pingTimer = ctx.executor().scheduleAtFixedRate(this::ping, every, every, TimeUnit.NANOSECONDS);
        if (grants.validUntil() != null) {
            long left = Duration.between(Instant.now(), grants.validUntil()).toNanos();
            expiryTimer = ctx.executor().schedule(() -> closeWith(TOKEN_EXPIRED, "token_expired"),
                    Math.max(0, left), TimeUnit.NANOSECONDS);
        }
    }

    void subscribeOnConnect(List<String> names, StartPosition from) {
        for (String topic : names) {
            inOrder(() -> {
                try {
                    topics.subscribe(topic, from, null);
                } catch (ApiException e) {
                    sendError(null, e.code().wire(), e.getMessage());
                }
            });
        }
    }

    /** Runs {@code op} now, or after the ops before it when a subscribe is waiting for its feed. */
    private void inOrder(Runnable op) {
        if (heldBy > 0) {
            waitingOps.add(op);
        } else {
            op.run();
        }
    }

    // ---- inbound ops ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastHeardNanos = System.nanoTime();
        try {
            if (msg instanceof WebSocketFrame frame) {
                if (!failed) {
                    received(frame);
                }
            } else {
                ctx.fireChannelRead(ReferenceCountUtil.retain(msg));
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * One frame from the decoder, which checked the framing (a continuation only inside a fragmented message, control
     * frames whole). Fragments are joined and text is checked for UTF-8 here rather than by two more handlers per
     * connection (BENCHMARKS.md, "WebSocket write path and handlers").
     */
    private void received(WebSocketFrame frame) {
        if (frame instanceof ContinuationWebSocketFrame part) {
            if (!fragments.add(part)) {
                fail(WebSocketCloseStatus.MESSAGE_TOO_BIG, "a message is at most " + maxMessageBytes + " bytes");
            } else if (part.isFinalFragment()) {
                FragmentedMessage whole = fragments;
                fragments = null;
                try {
                    message(whole.text(), whole.bytes());
                } finally {
                    whole.release();
                }
            }
        } else if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
            if (frame.isFinalFragment()) {
                message(frame instanceof TextWebSocketFrame, frame.content());
            } else {
                fragments = new FragmentedMessage(ctx.alloc(), frame, maxMessageBytes);
            }
        } else if (frame instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
        } else if (frame instanceof CloseWebSocketFrame close) {
            // As Netty's handshaker closes, without keeping the handshaker (and its URI) per connection.
            ctx.channel().writeAndFlush(close.retain()).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void message(boolean text, ByteBuf bytes) {
        if (!text) {
            sendError(null, "invalid_frame", "ops are JSON text frames");
        } else if (!ByteBufUtil.isText(bytes, StandardCharsets.UTF_8)) {
            fail(WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "text must be valid UTF-8"); // RFC 6455 8.1
        } else {
            onText(bytes.toString(StandardCharsets.UTF_8), stats.stageStart());
        }
    }

    /** The client broke the protocol: the Close frame says how, nothing it sent later is read, then it is closed. */
    private void fail(WebSocketCloseStatus status, String reason) {
        failed = true;
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(new CloseWebSocketFrame(status, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    /** @param stageStart when this frame's stage timing started, 0 if it is not sampled */
    private void onText(String text, long stageStart) {
        if (heldBy > 0) {
            waitingOps.add(() -> onText(text, stageStart));
            return;
        }
        JsonNode op;
        try {
            op = HttpResponses.MAPPER.readTree(text);
        } catch (IOException e) {
            sendError(null, "invalid_json", "the frame is not valid JSON");
            return;
        }
        if (op == null || !op.isObject()) {
            sendError(null, "invalid_op", "an op is a JSON object with an \"op\" field");
            return;
        }
        String id = op.hasNonNull("id") ? op.get("id").asText() : null;
        try {
            switch (op.path("op").asText("")) {
                case "subscribe" -> {
                    if (op.has("group")) {
                        subscribeGroup(op, id);
                    } else if (TopicNames.isPattern(OpFields.text(op, "topic"))) {
                        patterns().subscribe(OpFields.text(op, "topic"), op.get("from"), id);
                    } else {
                        topics.subscribe(OpFields.text(op, "topic"), OpFields.from(op.get("from")), id);
                    }
                }
                case "unsubscribe" -> unsubscribe(op, id);
                case "ack" -> memberships().ack(OpFields.text(op, "topic"), OpFields.text(op, "group"),
                        op.get("offsets"), id, this::sendReply);
                case "publish" -> publish(op, id, stageStart);
                default -> throw new ApiException(ErrorCode.INVALID_OP,
                        "unknown op '" + op.path("op").asText("") + "'; use subscribe, unsubscribe, ack or publish");
            }
        } catch (ApiException e) {
            sendError(id, e.code().wire(), e.getMessage());
        }
    }

    /**
     * A subscribe waits for its feeds to open (on a shared engine that waits on Redis, off the loop): the
     * connection's later ops wait, run in order once it is answered ({@link #releaseOps}), and reading pauses, which
     * bounds them.
     */
    @Override
    public void holdOps() {
        heldBy++;
        ctx.channel().config().setAutoRead(false);
    }

    /** The subscribe {@link #holdOps} waited for is answered: the waiting ops run, in order. */
    @Override
    public void releaseOps() {
        if (--heldBy > 0) {
            return;
        }
        if (closed) {
            waitingOps.clear();
            return;
        }
        if (publishesInFlight < MAX_PUBLISHES_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(true);
        }
        while (heldBy == 0 && !waitingOps.isEmpty()) {
            waitingOps.poll().run();
        }
    }

    /** A pattern or group the connection never subscribed to has no holder yet: refused as any unknown one is. */
    private void unsubscribe(JsonNode op, String id) {
        String topic = OpFields.text(op, "topic");
        if (op.has("group")) {
            String group = OpFields.text(op, "group");
            if (memberships == null) {
                throw GroupMemberships.notMember(topic, group);
            }
            memberships.unsubscribe(topic, group, id, this::sendReply);
        } else if (TopicNames.isPattern(topic)) {
            if (patterns == null) {
                throw PatternSubscriptions.notSubscribed(topic);
            }
            patterns.unsubscribe(topic, id);
        } else {
            topics.unsubscribe(topic, id);
        }
    }

    private void subscribeGroup(JsonNode op, String id) {
        if (subscriptionCount() >= maxSubscriptions()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "at most " + maxSubscriptions()
                    + " subscriptions per connection");
        }
        memberships().subscribe(OpFields.text(op, "topic"), OpFields.text(op, "group"), op.get("maxInFlight"), id,
                this::sendReply);
    }

    /** Built on the connection's first group op (an ack from a non-member is the group's to refuse). */
    private GroupMemberships memberships() {
        if (memberships == null) {
            memberships = new GroupMemberships(groups, grants, ctx);
        }
        return memberships;
    }

    /** Built on the connection's first pattern subscribe. */
    private PatternSubscriptions patterns() {
        if (patterns == null) {
            patterns = new PatternSubscriptions(this);
        }
        return patterns;
    }

    // ---- SubscriptionHost ----

    @Override
    public ChannelHandlerContext ctx() {
        return ctx;
    }

    @Override
    public Delivery delivery() {
        return delivery;
    }

    @Override
    public Grants grants() {
        return grants;
    }

    @Override
    public int maxSubscriptions() {
        return limits.maxSubscriptionsPerConnection();
    }

    /** Cursors and memberships of this connection: each topic a pattern follows counts as one. */
    @Override
    public int subscriptionCount() {
        return topics.size() + (memberships == null ? 0 : memberships.size())
                + (patterns == null ? 0 : patterns.topicCount());
    }

    /** Every cursor of the connection, exact topics first, then those its patterns follow. */
    private void forEachTopic(BiConsumer<String, Subscription> action) {
        topics.forEachTopic(action);
        if (patterns != null) {
            patterns.forEachTopic(action);
        }
    }

    private static ConnectionStats.SubscriptionView view(String topic, Subscription s) {
        return new ConnectionStats.SubscriptionView(topic, s.next(), s.topic().lastOffset());
    }

    private static long lag(Subscription s) {
        return ConnectionStats.SubscriptionView.lag(s.next(), s.topic().lastOffset());
    }

    /** A reply to an op: {@code fields} with {@code op} in front. */
    private void sendReply(String op, ObjectNode fields) {
        ObjectNode reply = HttpResponses.MAPPER.createObjectNode().put("op", op);
        reply.setAll(fields);
        ctx.writeAndFlush(new TextWebSocketFrame(reply.toString()));
    }

    private void publish(JsonNode op, String id, long stageStart) {
        String topic = OpFields.text(op, "topic");
        grants.requirePublish(topic);
        JsonNode data = op.get("data");
        if (data == null) {
            throw new ApiException(ErrorCode.INVALID_OP, "publish needs \"data\"");
        }
        OpFields.Payload payload = OpFields.payload(data, op.hasNonNull("type") ? op.get("type").asText() : null,
                op.path("encoding").asText("").equals("base64"));
        String key = op.hasNonNull("key") ? op.get("key").asText() : null;
        Map<String, List<String>> headers = OpFields.headers(op.get("headers"));
        if (payload.bytes().length > limits.maxMessageBytes()) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "message is " + payload.bytes().length
                    + " bytes; the limit is " + limits.maxMessageBytes());
        }
        publishBudget.admit(grants.subject(), 1);
        long storeStart = stats.stages().decoded(stageStart);
        var done = stats.stages().stored(storeStart,
                broker.append(topic, payload.type(), payload.bytes(), headers, key));
        if (++publishesInFlight >= MAX_PUBLISHES_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(false);
        }
        done.whenComplete((r, e) -> Handoff.execute(ctx.executor(), () -> acked(id, r, e)));
    }

    private void acked(String id, PublishResult r, Throwable error) {
        if (--publishesInFlight < MAX_PUBLISHES_IN_FLIGHT / 2 && heldBy == 0
                && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
        if (error == null) {
            stats.messagesIn(r.replayed() ? 0 : 1);
            ctx.writeAndFlush(new TextWebSocketFrame(
                    Replies.reply("ack", id).put("topic", r.topic()).put("offset", r.offset()).toString()));
        } else {
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            if (cause instanceof ApiException api) {
                sendError(id, api.code().wire(), api.getMessage());
            } else {
                sendError(id, ErrorCode.INTERNAL.wire(), "the publish failed");
            }
        }
    }

    // ---- DeliverySink ----

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public String transport() {
        return "ws";
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    @Override
    public void deliver(Message message) {
        burst().append(WebSocketFrames.MESSAGES.bytes(message));
        stats.messagesOut(1);
    }

    @Override
    public SharedEncoding sharedEncoding() {
        return WebSocketFrames.MESSAGES;
    }

    @Override
    public void deliverShared(ByteBuf bytes, int messages) {
        burst().appendShared(bytes);
        stats.messagesOut(messages);
    }

    /**
     * Message frames are the wire form already: they enter the pipeline below the frame encoder, which the handshake
     * put in before any op could subscribe.
     */
    private BurstWriter burst() {
        if (burst == null) {
            ChannelHandlerContext encoder = ctx.pipeline().context(WebSocketFrameEncoder.class);
            burst = encoder == null ? new BurstWriter(ctx) : BurstWriter.below(encoder);
        }
        return burst;
    }

    @Override
    public void gap(String topic, long from, long first) {
        burst().writePending();
        ctx.write(new TextWebSocketFrame(Replies.reply("gap", null).put("topic", topic).put("from", from)
                .put("first", first).toString()));
    }

    @Override
    public void topicDeleted(String topic) {
        topics.deleted(topic);
        burst().writePending();
        ctx.write(new TextWebSocketFrame(Replies.reply("error", null).put("code", "topic_deleted").put("topic", topic)
                .put("message", "topic '" + topic + "' was deleted; the subscription has ended").toString()));
    }

    @Override
    public void flush() {
        burst().flush();
    }

    // ---- connection ----

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        slowGuard.writabilityChanged();
        if (ctx.channel().isWritable()) {
            topics.drain();
            if (patterns != null) {
                patterns.forEachTopic((topic, s) -> s.drain());
            }
        }
        super.channelWritabilityChanged(ctx);
    }

    private void closeSlow() {
        stats.closedAsSlow();
        StringBuilder reason = new StringBuilder("slow consumer; resume from");
        forEachTopic((topic, s) -> appendResumePoint(reason, topic, s));
        closeWith(SLOW_CONSUMER, reason.toString());
    }

    /** A close reason is at most 123 bytes: the points that do not fit are left out. */
    private static void appendResumePoint(StringBuilder reason, String topic, Subscription s) {
        String part = " " + topic + "@" + s.next();
        if (reason.length() + part.length() <= 120) {
            reason.append(part);
        }
    }

    private void ping() {
        long silent = System.nanoTime() - lastHeardNanos;
        if (silent > 2 * pingInterval.toNanos()) {
            closeWith(1001, "no pong within " + 2 * pingInterval.toSeconds() + "s");
        } else {
            ctx.writeAndFlush(new PingWebSocketFrame());
        }
    }

    private void closeWith(int code, String reason) {
        // The close frame may never get through a full buffer; the channel closes regardless.
        ctx.writeAndFlush(new CloseWebSocketFrame(code, reason));
        ctx.executor().schedule(() -> ctx.close(), 1, TimeUnit.SECONDS);
        ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!closed) {
            closed = true;
            if (burst != null) {
                burst.discard();
            }
            if (fragments != null) {
                fragments.release();
                fragments = null;
            }
            pingTimer.cancel(false);
            if (expiryTimer != null) {
                expiryTimer.cancel(false);
            }
            slowGuard.cancel();
            topics.close();
            if (memberships != null) {
                memberships.close();
            }
            if (patterns != null) {
                patterns.close();
            }
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void sendError(String id, String code, String message) {
        ctx.writeAndFlush(Replies.errorFrame(id, code, message));
    }
}
