package dev.switchboard.codec.nats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.auth.Grants;
import dev.switchboard.auth.NamePattern;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.codec.BurstWriter;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.fanout.DeliverySink;
import dev.switchboard.fanout.PatternFollow;
import dev.switchboard.fanout.SlowConsumerGuard;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.HeaderRules;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One NATS connection (docs/nats.md). A subject is a topic: a PUB is a durable append, answered ({@code +OK} in
 * verbose mode, and any PONG asked for after it) once stored; a SUB is a cursor on each topic its subject covers, fed
 * by the delivery layer like a WebSocket's, so a slow reader pauses at its offset and is closed after the
 * slow-consumer timeout. Reply subjects and requests travel live through {@link LiveSubjects} instead, never stored.
 *
 * <p>Threads: the connection's event loop, except {@link Live#offer}, which hands over to it.
 */
final class NatsSession extends ChannelInboundHandlerAdapter {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] SPACE = {' '};
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PING = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PONG = "PONG\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final String INVALID_SUBJECT = "Invalid Subject";
    private static final int MAX_PUBLISHES_IN_FLIGHT = 256;
    /** Live messages handed to this loop and not yet written; past it they are dropped, as nats-server drops them. */
    private static final int MAX_LIVE_PENDING = 4096;
    /** Offsets this connection published and may still be sent back (no_echo); the oldest are forgotten first. */
    private static final int MAX_OWN_OFFSETS = 65_536;

    private final NatsEndpoint endpoint;
    private final Map<String, Sub> subs = new LinkedHashMap<>();
    private final AtomicInteger livePending = new AtomicInteger();
    private final LinkedHashSet<String> ownOffsets = new LinkedHashSet<>();
    /** For each PING asked while publishes were in flight: how many publishes must be answered before its PONG. */
    private final ArrayDeque<Long> pongsOwed = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private ConnectionStats stats;
    private BurstWriter burst;
    private JobRequests jobRequests;
    private SlowConsumerGuard slowGuard;
    private ScheduledFuture<?> pingTimer;
    private ScheduledFuture<?> deadline;
    private Grants grants;
    private boolean connected;
    private boolean verbose;
    private boolean echo = true;
    /** CONNECT said {@code headers:true}: messages with headers go out as HMSG. */
    private boolean takesHeaders;
    private boolean closing;
    private int pingsUnanswered;
    private long publishesSent;
    private long publishesAnswered;
    private int topicSubscriptions;

    NatsSession(NatsEndpoint endpoint) {
        this.endpoint = endpoint;
        this.grants = endpoint.authRequired ? Grants.NOBODY : Grants.ANYONE;
    }

    /** One SUB: a cursor per topic its subject covers, and its entry among the live subjects. */
    private final class Sub implements LiveSubjects.Entry {
        final String sid;
        final NamePattern pattern;
        final String queue;
        final Map<String, Subscription> topics = new HashMap<>();
        PatternFollow follow;
        long max;
        long delivered;
        boolean ended;
        boolean toldOverLimit;

        Sub(String sid, NamePattern pattern, String queue) {
            this.sid = sid;
            this.pattern = pattern;
            this.queue = queue;
        }

        @Override
        public NamePattern pattern() {
            return pattern;
        }

        @Override
        public String queue() {
            return queue;
        }

        @Override
        public Object owner() {
            return NatsSession.this;
        }

        @Override
        public void offer(String subject, String replyTo, byte[] headers, byte[] payload) {
            if (!ctx.channel().isWritable() || livePending.incrementAndGet() > MAX_LIVE_PENDING) {
                livePending.updateAndGet(n -> Math.max(0, n - 1));
                return;
            }
            Handoff.execute(ctx.executor(), () -> {
                livePending.decrementAndGet();
                if (!ended) {
                    String head = subject + " " + sid + " " + (replyTo == null ? "" : replyTo + " ");
                    writeMsg(ascii("MSG " + head), ascii("HMSG " + head), this, headers, payload);
                    burst.flush();
                }
            });
        }
    }

    /** The push end of one SUB's cursor on one topic. */
    private final class TopicSink implements DeliverySink {
        private final Sub sub;
        // The line up to the size is the same for every message of this topic to this SUB: built once.
        private final byte[] msgHead;
        private final byte[] hmsgHead;

        TopicSink(Sub sub, String topic) {
            this.sub = sub;
            this.msgHead = ascii("MSG " + topic + " " + sub.sid + " ");
            this.hmsgHead = ascii("HMSG " + topic + " " + sub.sid + " ");
        }

        @Override
        public EventExecutor executor() {
            return ctx.executor();
        }

        @Override
        public String transport() {
            return Transport.NATS.wire();
        }

        @Override
        public boolean isWritable() {
            return ctx.channel().isWritable();
        }

        @Override
        public void deliver(Message m) {
            if (sub.ended || (!echo && ownOffsets.remove(m.topic() + "@" + m.offset()))) {
                return;
            }
            if (sub.queue != null && !endpoint.chosen(sub.pattern.toString(), sub.queue, sub, m.topic(), m.offset())) {
                return;
            }
            writeMsg(msgHead, hmsgHead, sub, m.headers().isEmpty() ? null : NatsHeaders.format(m.headers()),
                    m.payload());
        }

        @Override
        public void gap(String topic, long from, long first) {
            // Core NATS promises at most once: a reader behind retention simply goes on from what is kept.
        }

        @Override
        public void topicDeleted(String topic) {
            Subscription s = sub.topics.remove(topic);
            if (s != null) {
                endpoint.delivery.release(s.topic());
                topicSubscriptions--;
            }
            if (!sub.ended && sub.follow == null) {
                // A literal subject outlives its topic: it gets the topic created again, from its first message.
                followTopic(sub, topic, new StartPosition.AtOffset(1));
            }
        }

        @Override
        public void flush() {
            burst.flush();
        }
    }

    // ---- connection ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        stats = ConnectionStats.of(ctx.channel());
        stats.use(Transport.NATS);
        stats.subscriptions(() -> {
            List<ConnectionStats.SubscriptionView> views = new ArrayList<>();
            for (Sub sub : subs.values()) {
                sub.topics.forEach((topic, s) -> views.add(new ConnectionStats.SubscriptionView(topic, s.next(),
                        s.topic().lastOffset())));
            }
            return views;
        });
        burst = new BurstWriter(ctx);
        jobRequests = new JobRequests(endpoint, ctx, this);
        slowGuard = new SlowConsumerGuard(ctx.channel(), endpoint.limits.slowConsumerTimeout(),
                () -> fail("Slow Consumer"));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(endpoint.info(ctx.channel(), stats.id())));
        long every = endpoint.pingInterval.toNanos();
        pingTimer = ctx.executor().scheduleAtFixedRate(this::ping, every, every, TimeUnit.NANOSECONDS);
        if (endpoint.authRequired) {
            // As nats-server's auth timeout: a connection that never authenticates does not keep its slot.
            deadline = ctx.executor().schedule(() -> fail("Authentication Timeout"),
                    endpoint.limits.headerTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        super.channelActive(ctx);
    }

    /** Called by the connection limiter's refusal; see {@link NatsEndpoint#refuse}. */
    void refuse(String why) {
        ctx.executor().execute(() -> fail(why));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing || !(msg instanceof NatsOp op)) {
            return;
        }
        pingsUnanswered = 0;
        try {
            if (endpoint.authRequired && !connected && !(op instanceof NatsOp.Connect)
                    && !(op instanceof NatsOp.Malformed)) {
                fail("Authorization Violation");
                return;
            }
            switch (op) {
                case NatsOp.Connect c -> connect(c.json());
                case NatsOp.Pub p -> publish(p);
                case NatsOp.Sub s -> subscribe(s);
                case NatsOp.Unsub u -> unsubscribe(u);
                case NatsOp.Ping p -> ping(p);
                case NatsOp.Pong p -> { }
                case NatsOp.Malformed m -> fail(m.reason());
            }
        } catch (ApiException e) {
            error(e.getMessage());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        burst.flush();
    }

    private void connect(String json) {
        JsonNode options;
        try {
            options = HttpResponses.MAPPER.readTree(json);
        } catch (IOException e) {
            options = null;
        }
        if (options == null || !options.isObject()) {
            fail("Parser Error: CONNECT takes a JSON object");
            return;
        }
        if (endpoint.authRequired) {
            JsonNode token = options.get("auth_token");
            try {
                grants = endpoint.authenticator.verify(token != null && token.isTextual() ? token.asText() : null);
            } catch (ApiException e) {
                fail("Authorization Violation");
                return;
            }
            if (deadline != null) {
                deadline.cancel(false);
                deadline = null;
            }
            if (grants.validUntil() != null) {
                long left = Duration.between(Instant.now(), grants.validUntil()).toNanos();
                deadline = ctx.executor().schedule(() -> fail("User Authentication Expired"), Math.max(0, left),
                        TimeUnit.NANOSECONDS);
            }
        }
        verbose = options.path("verbose").asBoolean(false);
        echo = options.path("echo").asBoolean(true);
        takesHeaders = options.path("headers").asBoolean(false);
        connected = true;
        ok();
    }

    // ---- publishing ----

    private void publish(NatsOp.Pub p) {
        String subject = p.subject();
        if (!TopicNames.isValid(subject) || (p.replyTo() != null && !TopicNames.isValid(p.replyTo()))) {
            error(INVALID_SUBJECT);
            return;
        }
        Map<String, List<String>> headers = MessageHeaders.NONE;
        if (p.headers() != null) {
            headers = NatsHeaders.parse(p.headers());
            if (headers == null) {
                error("Parser Error: an HPUB's headers start with NATS/1.0 and hold 'Name: value' lines");
                return;
            }
            HeaderRules.validate(headers); // live messages too, so every subscriber gets headers any transport takes
        }
        String jobQueue = JobRequests.queueOf(subject);
        if (jobQueue != null) {
            jobRequests.submit(grants, jobQueue, p.payload(), p.replyTo());
            ok();
            return;
        }
        if (p.replyTo() != null || endpoint.live.isReply(subject)) {
            if (!subject.startsWith("_INBOX.") && !grants.mayPublish(subject)) {
                error("Permissions Violation for Publish to \"" + subject + "\"");
                return;
            }
            if (p.replyTo() != null) {
                endpoint.live.rememberReply(p.replyTo());
            }
            endpoint.live.route(subject, p.replyTo(), p.headers(), p.payload(), echo ? null : this);
            stats.messagesIn(1);
            ok();
            return;
        }
        if (!grants.mayPublish(subject)) {
            error("Permissions Violation for Publish to \"" + subject + "\"");
            return;
        }
        CompletableFuture<PublishResult> done = endpoint.broker.append(subject, NatsEndpoint.OCTET_STREAM,
                p.payload(), headers, null);
        publishesSent++;
        if (publishesSent - publishesAnswered >= MAX_PUBLISHES_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(false);
        }
        done.whenComplete((r, e) -> Handoff.execute(ctx.executor(), () -> published(r, e)));
    }

    private void published(PublishResult r, Throwable error) {
        publishesAnswered++;
        if (publishesSent - publishesAnswered < MAX_PUBLISHES_IN_FLIGHT / 2 && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
        if (error == null) {
            stats.messagesIn(1);
            if (!echo && ownOffsets.size() < MAX_OWN_OFFSETS && coversOwnTopic(r.topic())) {
                ownOffsets.add(r.topic() + "@" + r.offset());
            }
            ok();
        } else {
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            error(cause instanceof ApiException api ? api.getMessage() : "the publish failed");
        }
        while (!pongsOwed.isEmpty() && pongsOwed.peekFirst() <= publishesAnswered) {
            pongsOwed.removeFirst();
            burst.append(PONG);
        }
        burst.flush();
    }

    /** Whether a message this connection published could come back to it (no_echo has to catch it then). */
    private boolean coversOwnTopic(String topic) {
        for (Sub sub : subs.values()) {
            if (sub.topics.containsKey(topic)) {
                return true;
            }
        }
        return false;
    }

    private void ping(NatsOp.Ping p) {
        // A client's PING after its PUBs (a flush) is answered once they are stored, so the PONG means "stored".
        if (publishesAnswered < publishesSent) {
            pongsOwed.addLast(publishesSent);
        } else {
            burst.append(PONG);
        }
    }

    // ---- subscriptions ----

    private void subscribe(NatsOp.Sub op) {
        NamePattern pattern;
        try {
            pattern = NamePattern.parse(op.subject());
        } catch (IllegalArgumentException e) {
            error(INVALID_SUBJECT);
            return;
        }
        if (op.queue() != null && !TopicNames.isValid(op.queue())) {
            error("Invalid Queue Name");
            return;
        }
        if (subs.containsKey(op.sid())) {
            error("Parser Error: sid " + op.sid() + " is already in use");
            return;
        }
        if (subs.size() >= endpoint.limits.maxSubscriptionsPerConnection()) {
            error("Maximum Subscriptions Exceeded");
            return;
        }
        String subject = op.subject();
        boolean wildcard = TopicNames.isPattern(subject);
        boolean reply = subject.startsWith("_INBOX.");
        if (!reply && !wildcard && !grants.maySubscribe(subject)) {
            error("Permissions Violation for Subscription to \"" + subject + "\"");
            return;
        }
        Sub sub = new Sub(op.sid(), pattern, op.queue());
        subs.put(sub.sid, sub);
        endpoint.live.add(sub);
        if (sub.queue != null) {
            endpoint.joinGroup(subject, sub.queue, sub);
        }
        ok();
        if (reply) {
            return; // reply subjects are never stored: nothing to follow
        }
        if (wildcard) {
            sub.follow = endpoint.delivery.follow(t -> pattern.reaches(t) && grants.maySubscribe(t),
                    (t, from) -> {
                        if (ctx.executor().inEventLoop()) {
                            followTopic(sub, t, from);
                        } else {
                            Handoff.execute(ctx.executor(), () -> followTopic(sub, t, from));
                        }
                    });
        } else {
            followTopic(sub, subject, StartPosition.NEXT);
        }
    }

    private void followTopic(Sub sub, String topic, StartPosition from) {
        if (sub.ended || closing) {
            return;
        }
        Subscription existing = sub.topics.get(topic);
        if (existing != null) {
            if (!existing.topic().isDeleted()) {
                return;
            }
            end(sub, topic, existing);
        }
        if (topicSubscriptions >= endpoint.limits.maxSubscriptionsPerConnection()) {
            if (!sub.toldOverLimit) {
                sub.toldOverLimit = true; // once: a wide wildcard over many topics would repeat it for each
                error("Maximum Subscriptions Exceeded: sid " + sub.sid + " follows no more topics");
            }
            return;
        }
        TopicFeed feed;
        try {
            feed = endpoint.delivery.attach(topic);
        } catch (ApiException e) {
            error(e.getMessage());
            return;
        }
        Subscription s = endpoint.delivery.subscribe(feed, from, new TopicSink(sub, topic));
        sub.topics.put(topic, s);
        topicSubscriptions++;
        s.start();
    }

    private void end(Sub sub, String topic, Subscription s) {
        s.close();
        endpoint.delivery.release(s.topic());
        sub.topics.remove(topic, s);
        topicSubscriptions--;
    }

    private void unsubscribe(NatsOp.Unsub op) {
        Sub sub = subs.get(op.sid());
        if (sub != null) {
            if (op.max() > 0 && sub.delivered < op.max()) {
                sub.max = op.max();
            } else {
                endSub(sub);
            }
        }
        ok();
    }

    private void endSub(Sub sub) {
        if (sub.ended) {
            return;
        }
        sub.ended = true;
        subs.remove(sub.sid, sub);
        endpoint.live.remove(sub);
        if (sub.queue != null) {
            endpoint.leaveGroup(sub.pattern.toString(), sub.queue, sub);
        }
        if (sub.follow != null) {
            sub.follow.cancel();
        }
        for (Map.Entry<String, Subscription> e : new ArrayList<>(sub.topics.entrySet())) {
            end(sub, e.getKey(), e.getValue());
        }
    }

    // ---- writing ----

    /**
     * {@code MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n}, or HMSG with the header block for a client that
     * said it takes headers (others get the payload alone); ends the SUB once it delivered its max.
     */
    private void writeMsg(byte[] msgHead, byte[] hmsgHead, Sub sub, byte[] headers, byte[] payload) {
        // Sizes go straight into the burst: a line built as a String cost three allocations per delivery.
        if (headers != null && takesHeaders) {
            burst.append(hmsgHead);
            burst.appendDecimal(headers.length);
            burst.append(SPACE);
            burst.appendDecimal(headers.length + payload.length);
            burst.append(CRLF);
            burst.append(headers);
        } else {
            burst.append(msgHead);
            burst.appendDecimal(payload.length);
            burst.append(CRLF);
        }
        burst.append(payload);
        burst.append(CRLF);
        stats.messagesOut(1);
        sub.delivered++;
        if (sub.max > 0 && sub.delivered >= sub.max) {
            endSub(sub);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void ok() {
        if (verbose) {
            burst.append(OK);
        }
    }

    /** {@code -ERR 'why'}; the connection stays open (nats-server's answer to a refused subject or permission). */
    void error(String why) {
        burst.append(("-ERR '" + why.replace('\'', '"').replace('\r', ' ').replace('\n', ' ') + "'\r\n")
                .getBytes(StandardCharsets.UTF_8));
        burst.flush();
    }

    /** {@code -ERR 'why'}, then the connection closes once it is written. */
    private void fail(String why) {
        if (closing) {
            return;
        }
        closing = true;
        if (why.equals("Slow Consumer")) {
            stats.closedAsSlow();
        }
        burst.discard();
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(("-ERR '" + why + "'\r\n").getBytes(StandardCharsets.UTF_8)))
                .addListener(ChannelFutureListener.CLOSE);
        // A reader that does not read would keep the close waiting behind a full buffer.
        ctx.executor().schedule(() -> ctx.close(), 1, TimeUnit.SECONDS);
    }

    private void ping() {
        if (++pingsUnanswered > 2) {
            fail("Stale Connection");
        } else {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(PING));
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        slowGuard.writabilityChanged();
        if (ctx.channel().isWritable()) {
            for (Sub sub : subs.values().toArray(new Sub[0])) {
                for (Subscription s : sub.topics.values().toArray(new Subscription[0])) {
                    s.drain();
                }
            }
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closing = true;
        burst.discard();
        if (pingTimer != null) {
            pingTimer.cancel(false);
        }
        if (deadline != null) {
            deadline.cancel(false);
        }
        slowGuard.cancel();
        for (Sub sub : subs.values().toArray(new Sub[0])) {
            endSub(sub);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
