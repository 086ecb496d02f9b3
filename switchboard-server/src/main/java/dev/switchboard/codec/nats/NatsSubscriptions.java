package dev.switchboard.codec.nats;

import dev.switchboard.auth.NamePattern;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Message;
import dev.switchboard.fanout.DeliverySink;
import dev.switchboard.fanout.PatternFollow;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SUBs of one NATS connection (docs/nats.md). A SUB is a cursor on each topic its subject covers — a literal
 * subject's topic, or every topic a wildcard reaches, followed as they are created — fed by the delivery layer like a
 * WebSocket's, so a slow reader pauses at its offset; it is also an entry among the node's {@link LiveSubjects}, for
 * what travels live. A SUB in a queue group takes only its share of each topic; an UNSUB with a max ends it after that
 * many messages. Messages are written through the connection's {@link NatsSession}.
 *
 * <p>Threads: the connection's event loop, except {@link Sub#offer}, which hands over to it.
 */
final class NatsSubscriptions {
    /** Live messages handed to this loop and not yet written; past it they are dropped, as nats-server drops them. */
    private static final int MAX_LIVE_PENDING = 4096;
    /** Offsets this connection published and may still be sent back (no_echo); past this many, no more are kept. */
    private static final int MAX_OWN_OFFSETS = 65_536;

    private final NatsEndpoint endpoint;
    private final ChannelHandlerContext ctx;
    private final NatsSession session;
    private final Map<String, Sub> subs = new LinkedHashMap<>();
    private final AtomicInteger livePending = new AtomicInteger();
    private final LinkedHashSet<String> ownOffsets = new LinkedHashSet<>();
    private int topicSubscriptions;

    NatsSubscriptions(NatsEndpoint endpoint, ChannelHandlerContext ctx, NatsSession session) {
        this.endpoint = endpoint;
        this.ctx = ctx;
        this.session = session;
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
            return session;
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
                    send(this, ascii(subject + " " + sid + " " + (replyTo == null ? "" : replyTo + " ")), headers,
                            payload);
                    session.flush();
                }
            });
        }
    }

    /** The push end of one SUB's cursor on one topic. */
    private final class TopicSink implements DeliverySink {
        private final Sub sub;
        // The line up to the size is the same for every message of this topic to this SUB: built once.
        private final byte[] head;

        TopicSink(Sub sub, String topic) {
            this.sub = sub;
            this.head = ascii(topic + " " + sub.sid + " ");
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
            if (sub.ended || (!session.echo() && ownOffsets.remove(ownOffset(m.topic(), m.offset())))) {
                return;
            }
            if (sub.queue != null && !endpoint.chosen(sub.pattern.toString(), sub.queue, sub, m.topic(), m.offset())) {
                return;
            }
            send(sub, head, m.headers().isEmpty() ? null : NatsHeaders.format(m.headers()), m.payload());
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
                followTopic(sub, topic, new StartPosition.AtOffset(1), false);
            }
        }

        @Override
        public void flush() {
            session.flush();
        }
    }

    void subscribe(NatsOp.Sub op) {
        NamePattern pattern;
        try {
            pattern = NamePattern.parse(op.subject());
        } catch (IllegalArgumentException e) {
            session.error(NatsSession.INVALID_SUBJECT);
            return;
        }
        if (op.queue() != null && !TopicNames.isValid(op.queue())) {
            session.error("Invalid Queue Name");
            return;
        }
        if (subs.containsKey(op.sid())) {
            session.error("Parser Error: sid " + op.sid() + " is already in use");
            return;
        }
        if (subs.size() >= endpoint.limits.maxSubscriptionsPerConnection()) {
            session.error("Maximum Subscriptions Exceeded");
            return;
        }
        String subject = op.subject();
        boolean wildcard = TopicNames.isPattern(subject);
        boolean reply = subject.startsWith("_INBOX.");
        if (!reply && !wildcard && !session.grants().maySubscribe(subject)) {
            session.error("Permissions Violation for Subscription to \"" + subject + "\"");
            return;
        }
        Sub sub = new Sub(op.sid(), pattern, op.queue());
        subs.put(sub.sid, sub);
        session.awaitBeforePong(endpoint.live.add(sub));
        if (sub.queue != null) {
            endpoint.joinGroup(subject, sub.queue, sub);
        }
        session.ok();
        if (reply) {
            return; // reply subjects are never stored: nothing to follow
        }
        if (wildcard) {
            // The grants asked when a topic appears, not at SUB: a later CONNECT may have changed them.
            CompletableFuture<PatternFollow> following = endpoint.delivery.followAsync(
                    t -> pattern.reaches(t) && session.grants().maySubscribe(t), (t, from) -> {
                        if (ctx.executor().inEventLoop()) {
                            followTopic(sub, t, from, false);
                        } else {
                            Handoff.execute(ctx.executor(), () -> followTopic(sub, t, from, false));
                        }
                    });
            if (following.isDone() && !following.isCompletedExceptionally()) {
                sub.follow = following.join(); // the embedded engine answers from memory
                return;
            }
            // Later ops wait until the node listens for the wildcard's new topics: a PUB after the SUB reaches it.
            session.holdOps();
            following.whenComplete((follow, error) -> Handoff.execute(ctx.executor(), () -> {
                if (error != null) {
                    session.error(causeOf(error).getMessage());
                } else if (sub.ended || session.isClosing()) {
                    follow.cancel();
                } else {
                    sub.follow = follow;
                }
                session.releaseOps();
            }));
        } else {
            followTopic(sub, subject, StartPosition.NEXT, true);
        }
    }

    void unsubscribe(NatsOp.Unsub op) {
        Sub sub = subs.get(op.sid());
        if (sub != null) {
            if (op.max() > 0 && sub.delivered < op.max()) {
                sub.max = op.max();
            } else {
                endSub(sub);
            }
        }
        session.ok();
    }

    /**
     * @param holdOps the connection's later ops wait until the feed is open (a literal SUB's, which a PUB or PING
     *                sent after it must find live); a topic a wildcard found later needs no such order
     */
    private void followTopic(Sub sub, String topic, StartPosition from, boolean holdOps) {
        if (sub.ended || session.isClosing()) {
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
                session.error("Maximum Subscriptions Exceeded: sid " + sub.sid + " follows no more topics");
            }
            return;
        }
        CompletableFuture<TopicFeed> attaching;
        try {
            attaching = endpoint.delivery.attachAsync(topic);
        } catch (ApiException e) {
            session.error(e.getMessage());
            return;
        }
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            follow(sub, topic, from, attaching.join()); // the embedded engine, or a feed open already
            return;
        }
        topicSubscriptions++; // counted while it opens, so the limit holds
        if (holdOps) {
            session.holdOps();
        }
        attaching.whenComplete((feed, error) -> Handoff.execute(ctx.executor(), () -> {
            topicSubscriptions--;
            if (error != null) {
                session.error(causeOf(error).getMessage());
            } else if (sub.ended || session.isClosing() || sub.topics.containsKey(topic)) {
                endpoint.delivery.release(feed);
            } else {
                follow(sub, topic, from, feed);
            }
            if (holdOps) {
                session.releaseOps();
            }
        }));
    }

    private static Throwable causeOf(Throwable error) {
        return error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
    }

    private void follow(Sub sub, String topic, StartPosition from, TopicFeed feed) {
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

    /** Writes one message to {@code sub}; ends the SUB once it delivered the max its UNSUB set. */
    private void send(Sub sub, byte[] head, byte[] headers, byte[] payload) {
        session.writeMsg(head, headers, payload);
        sub.delivered++;
        if (sub.max > 0 && sub.delivered >= sub.max) {
            endSub(sub);
        }
    }

    /** Under no_echo: the message this connection stored at {@code offset} of {@code topic} is not sent back to it. */
    void published(String topic, long offset) {
        if (ownOffsets.size() < MAX_OWN_OFFSETS && covers(topic)) {
            ownOffsets.add(ownOffset(topic, offset));
        }
    }

    /** Whether a message on {@code topic} could come back to this connection (no_echo has to catch it then). */
    private boolean covers(String topic) {
        for (Sub sub : subs.values()) {
            if (sub.topics.containsKey(topic)) {
                return true;
            }
        }
        return false;
    }

    private static String ownOffset(String topic, long offset) {
        return topic + "@" + offset;
    }

    /** The x-ray's view: one row per topic a SUB follows. */
    List<ConnectionStats.SubscriptionView> views() {
        List<ConnectionStats.SubscriptionView> views = new ArrayList<>();
        for (Sub sub : subs.values()) {
            sub.topics.forEach((topic, s) -> views.add(new ConnectionStats.SubscriptionView(topic, s.next(),
                    s.topic().lastOffset())));
        }
        return views;
    }

    /** The socket is writable again: every cursor goes on from where it paused. */
    void drain() {
        for (Sub sub : subs.values().toArray(new Sub[0])) {
            for (Subscription s : sub.topics.values().toArray(new Subscription[0])) {
                s.drain();
            }
        }
    }

    /** The connection is gone: every SUB leaves the live subjects, its queue group and its topics. */
    void endAll() {
        for (Sub sub : subs.values().toArray(new Sub[0])) {
            endSub(sub);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
