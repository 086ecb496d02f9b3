package dev.switchboard.codec.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.NamePattern;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Message;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.fanout.DeliverySink;
import dev.switchboard.fanout.PatternFollow;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.concurrent.EventExecutor;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * A WebSocket connection's pattern subscriptions ({@code subscribe} with a {@code topic} such as {@code chat.*}):
 * each follows every topic its pattern reaches, existing or created later ({@link PatternFollow}), with a cursor of
 * its own on each, pushed through the connection like any subscription. Each subscription delivers on its own: a
 * topic that a pattern and an exact subscription (or two patterns) both cover is delivered once per subscription, as
 * NATS does.
 *
 * <p>Bounded: {@link #MAX_PATTERNS} patterns per connection, {@link #MAX_TOPICS_PER_PATTERN} topics per pattern, and
 * every topic followed counts toward the connection's {@code --max-subscriptions}. A pattern that already matches
 * more is refused whole; a topic created later past a bound is not followed, and the connection is told so.
 *
 * <p>Threads: the connection's event loop; the engine's announcements of new topics are handed over to it.
 */
final class PatternSubscriptions {
    static final int MAX_PATTERNS = 64;
    static final int MAX_TOPICS_PER_PATTERN = 1000;

    /** The connection's own push end: pattern topics deliver through it, only a deleted topic is handled here. */
    private final SubscriptionHost connection;
    private final Map<String, Pattern> patterns = new LinkedHashMap<>();
    private boolean closed;

    PatternSubscriptions(SubscriptionHost connection) {
        this.connection = connection;
    }

    /**
     * Where a pattern's topics start: {@code next} (existing topics at their end), {@code earliest}, or per-topic
     * offsets to resume at, every other topic from its earliest (it is one the reader has not seen yet).
     */
    private record Start(StartPosition keyword, Map<String, Long> offsets) {
        /** Where a topic starts; {@code told} is where the follow says (its end when listed, 1 when new). */
        StartPosition of(String topic, StartPosition told, boolean listed) {
            Long at = listed ? offsets.get(topic) : null;
            if (at != null) {
                return new StartPosition.AtOffset(at);
            }
            return listed && keyword == StartPosition.EARLIEST ? StartPosition.EARLIEST : told;
        }
    }

    /** One pattern subscription: its follow and a cursor per topic. */
    private final class Pattern implements DeliverySink {
        final NamePattern pattern;
        final Start start;
        final Map<String, Subscription> topics = new LinkedHashMap<>();
        /** Topics found after the start whose feeds are opening; counted as followed, so the limits hold. */
        final Set<String> opening = new HashSet<>();
        PatternFollow follow;
        /**
         * Topics the follow told while the subscribe started (listed, or created while their feeds opened); null once
         * started. Kept here as they are told, on the engine's thread, so all listed are in before the listing ends.
         */
        private Map<String, StartPosition> starting = new LinkedHashMap<>();
        boolean ended;

        Pattern(NamePattern pattern, Start start) {
            this.pattern = pattern;
            this.start = start;
        }

        /** False once started: then the topic is the loop's to follow. */
        synchronized boolean toldWhileStarting(String topic, StartPosition told) {
            if (starting == null) {
                return false;
            }
            starting.putIfAbsent(topic, told);
            return true;
        }

        synchronized List<String> toldSoFar() {
            return List.copyOf(starting.keySet());
        }

        synchronized Map<String, StartPosition> started() {
            Map<String, StartPosition> told = starting;
            starting = null;
            return told;
        }

        int followed() {
            return topics.size() + opening.size();
        }

        @Override
        public EventExecutor executor() {
            return connection.executor();
        }

        @Override
        public String transport() {
            return connection.transport();
        }

        @Override
        public boolean isWritable() {
            return connection.isWritable();
        }

        @Override
        public void deliver(Message message) {
            connection.deliver(message);
        }

        @Override
        public void gap(String topic, long from, long first) {
            connection.gap(topic, from, first);
        }

        /** The pattern goes on: a topic created again under this name is announced and followed from offset 1. */
        @Override
        public void topicDeleted(String topic) {
            Subscription s = topics.remove(topic);
            if (s != null) {
                connection.delivery().release(s.topic());
            }
        }

        @Override
        public void flush() {
            connection.flush();
        }
    }

    int patternCount() {
        return patterns.size();
    }

    /** Topics followed by all patterns: each a cursor, counted as a subscription of the connection. */
    int topicCount() {
        int n = 0;
        for (Pattern p : patterns.values()) {
            n += p.followed();
        }
        return n;
    }

    /**
     * {@code {"op":"subscribe","topic":"<pattern>","from"}}: follows what the pattern reaches, answered
     * {@code subscribed} with each topic followed so far and its first offset. Subscribing to the same pattern again
     * starts it over at the new {@code from}. A refusal changes nothing. The listing of topics and the opening of
     * their feeds wait on the engine off the loop (on Redis, round trips); the connection's later ops wait for the
     * answer, so replies keep their order.
     */
    void subscribe(String text, JsonNode from, String id) {
        NamePattern pattern;
        try {
            pattern = NamePattern.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ApiException(ErrorCode.INVALID_TOPIC, "'" + TopicNames.abbreviate(text) + "' is neither a topic"
                    + " nor a pattern: [A-Za-z0-9_-] segments joined by '.', '*' for one segment, '>' last for the rest");
        }
        Start start = startOf(pattern, from);
        connection.grants().requireSubscribeAll(pattern);
        if (!patterns.containsKey(text) && patterns.size() >= MAX_PATTERNS) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "at most " + MAX_PATTERNS + " patterns per connection");
        }
        Pattern fresh = new Pattern(pattern, start);
        CompletableFuture<PatternFollow> following = connection.delivery().followAsync(
                t -> pattern.reaches(t) && connection.grants().maySubscribe(t), (t, told) -> {
                    if (!fresh.toldWhileStarting(t, told)) {
                        onLoop(() -> told(fresh, t, told));
                    }
                });
        connection.holdOps();
        following.whenComplete((follow, error) -> Handoff.execute(connection.executor(), () -> {
            try {
                listed(text, fresh, follow, error, id);
            } catch (ApiException e) {
                ended(fresh, id, e);
            }
        }));
    }

    /** The pattern's existing topics are listed: within the limits, their feeds open. */
    private void listed(String text, Pattern fresh, PatternFollow follow, Throwable error, String id) {
        if (error != null) {
            throw Replies.refusal(error, "cannot list the topics of pattern '" + text + "'");
        }
        fresh.follow = follow;
        if (closed) {
            ended(fresh, id, null);
            return;
        }
        Pattern old = patterns.get(text);
        int room = connection.maxSubscriptions() - connection.subscriptionCount() + (old == null ? 0 : old.followed());
        List<String> names = fresh.toldSoFar();
        int found = names.size();
        if (found > Math.min(MAX_TOPICS_PER_PATTERN, room)) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "pattern '" + text + "' matches " + found
                    + " topics; a pattern follows at most " + MAX_TOPICS_PER_PATTERN + " and this connection has room"
                    + " for " + Math.max(0, room) + " more subscriptions; nothing was subscribed");
        }
        CompletableFuture<List<TopicFeed>> attaching = connection.delivery().attachAllAsync(names);
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            attached(text, fresh, names, attaching.join(), id); // the embedded engine, or feeds open already
            return;
        }
        attaching.whenComplete((feeds, failure) -> Handoff.execute(connection.executor(), () -> {
            if (failure != null) {
                ended(fresh, id, Replies.refusal(failure, "cannot open the topics of pattern '" + text + "'"));
            } else {
                attached(text, fresh, names, feeds, id);
            }
        }));
    }

    /** The listed topics' feeds are open: the pattern replaces any earlier one of the same text, and is answered. */
    private void attached(String text, Pattern fresh, List<String> names, List<TopicFeed> feeds, String id) {
        if (closed) {
            feeds.forEach(connection.delivery()::release);
            ended(fresh, id, null);
            return;
        }
        Pattern old = patterns.put(text, fresh);
        if (old != null) {
            end(old);
        }
        Map<String, StartPosition> told = fresh.started();
        ObjectNode reply = Replies.reply("subscribed", id).put("topic", text).put("pattern", true);
        ObjectNode following = reply.putObject("following");
        Iterator<TopicFeed> opened = feeds.iterator();
        for (String t : names) {
            Subscription s = connection.delivery().subscribe(opened.next(), fresh.start.of(t, told.get(t), true),
                    fresh);
            fresh.topics.put(t, s);
            following.put(t, s.next());
        }
        connection.ctx().write(new TextWebSocketFrame(reply.toString()));
        fresh.topics.values().forEach(Subscription::start);
        connection.ctx().flush();
        // Created while the listed feeds opened: followed like any topic created later.
        told.forEach((t, at) -> {
            if (!fresh.topics.containsKey(t)) {
                told(fresh, t, at);
            }
        });
        connection.releaseOps();
    }

    /** A subscribe that did not start: nothing of it stays, the client is told why (unless it is gone). */
    private void ended(Pattern fresh, String id, ApiException refusal) {
        fresh.ended = true;
        if (fresh.follow != null) {
            fresh.follow.cancel();
        }
        if (refusal != null && !closed) {
            connection.ctx().writeAndFlush(Replies.errorFrame(id, refusal.code().wire(), refusal.getMessage()));
        }
        connection.releaseOps();
    }

    private static Start startOf(NamePattern pattern, JsonNode from) {
        if (from == null || from.isNull() || (from.isTextual() && from.asText().equals("next"))) {
            return new Start(StartPosition.NEXT, Map.of());
        }
        if (from.isTextual() && from.asText().equals("earliest")) {
            return new Start(StartPosition.EARLIEST, Map.of());
        }
        if (!from.isObject()) {
            throw new ApiException(ErrorCode.INVALID_FROM, "a pattern starts at \"next\", \"earliest\" or an object of"
                    + " offsets by topic to resume at; one offset has no meaning across topics");
        }
        if (from.size() > MAX_TOPICS_PER_PATTERN) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "a pattern resumes at most " + MAX_TOPICS_PER_PATTERN
                    + " topics");
        }
        Map<String, Long> offsets = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : from.properties()) {
            String topic = e.getKey();
            JsonNode at = e.getValue();
            if (!pattern.reaches(topic)) {
                throw new ApiException(ErrorCode.INVALID_FROM, "'" + TopicNames.abbreviate(topic)
                        + "' is not a topic pattern '" + pattern + "' follows");
            }
            if (!at.isIntegralNumber() || !at.canConvertToLong() || at.asLong() < 1) {
                throw new ApiException(ErrorCode.INVALID_FROM, "the offset of '" + topic + "' must be a whole number"
                        + " >= 1, got " + at);
            }
            offsets.put(topic, at.asLong());
        }
        return new Start(StartPosition.EARLIEST, offsets);
    }

    /** Announcements of new topics come on the engine's threads. */
    private void onLoop(Runnable task) {
        if (connection.executor().inEventLoop()) {
            task.run();
        } else {
            Handoff.execute(connection.executor(), task);
        }
    }

    /** A topic created after the pattern started. */
    private void told(Pattern p, String topic, StartPosition told) {
        if (p.ended || closed || p.opening.contains(topic)) {
            return;
        }
        Subscription existing = p.topics.get(topic);
        if (existing != null) {
            if (!existing.topic().isDeleted()) {
                return;
            }
            p.topics.remove(topic);
            end(existing);
        }
        if (p.followed() >= MAX_TOPICS_PER_PATTERN
                || connection.subscriptionCount() >= connection.maxSubscriptions()) {
            refuse(p, topic, ErrorCode.LIMIT_EXCEEDED.wire(), "topic '" + topic + "' is not followed: pattern '"
                    + p.pattern + "' follows " + p.topics.size() + " topics (at most " + MAX_TOPICS_PER_PATTERN
                    + ") and the connection has " + connection.subscriptionCount()
                    + " subscriptions (at most " + connection.maxSubscriptions() + ")");
            return;
        }
        CompletableFuture<TopicFeed> attaching;
        try {
            attaching = connection.delivery().attachAsync(topic);
        } catch (ApiException e) {
            refuse(p, topic, e.code().wire(), "topic '" + topic + "' is not followed: " + e.getMessage());
            return;
        }
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            follow(p, topic, told, attaching.join()); // the embedded engine, or a feed open already
            return;
        }
        p.opening.add(topic);
        attaching.whenComplete((feed, error) -> Handoff.execute(connection.executor(), () -> {
            p.opening.remove(topic);
            if (error == null && (p.ended || closed || p.topics.containsKey(topic))) {
                connection.delivery().release(feed);
            } else if (error == null) {
                follow(p, topic, told, feed);
            } else if (!p.ended && !closed) {
                ApiException refusal = Replies.refusal(error, "cannot open it");
                refuse(p, topic, refusal.code().wire(), "topic '" + topic + "' is not followed: "
                        + refusal.getMessage());
            }
        }));
    }

    private void follow(Pattern p, String topic, StartPosition told, TopicFeed feed) {
        Subscription s = connection.delivery().subscribe(feed, p.start.of(topic, told, false), p);
        p.topics.put(topic, s);
        s.start();
    }

    /** A topic the pattern reaches but does not follow: said, never silent, and the pattern goes on. */
    private void refuse(Pattern p, String topic, String code, String message) {
        connection.ctx().writeAndFlush(new TextWebSocketFrame(HttpResponses.MAPPER.createObjectNode().put("op", "error")
                .put("code", code).put("topic", topic).put("pattern", p.pattern.toString()).put("message", message)
                .toString()));
    }

    /** {@code {"op":"unsubscribe","topic":"<pattern>"}}: ends every topic of the pattern. */
    void unsubscribe(String text, String id) {
        Pattern p = patterns.remove(text);
        if (p == null) {
            throw notSubscribed(text);
        }
        end(p);
        ObjectNode reply = HttpResponses.MAPPER.createObjectNode().put("op", "unsubscribed");
        if (id != null) {
            reply.put("id", id);
        }
        connection.ctx().writeAndFlush(new TextWebSocketFrame(reply.put("topic", text).toString()));
    }

    /** The refusal of an unsubscribe from a pattern the connection does not follow. */
    static ApiException notSubscribed(String text) {
        return new ApiException(ErrorCode.NOT_SUBSCRIBED, "not subscribed to pattern '" + TopicNames.abbreviate(text)
                + "'");
    }

    private void end(Pattern p) {
        p.ended = true;
        p.follow.cancel();
        p.topics.values().forEach(this::end);
        p.topics.clear();
    }

    private void end(Subscription s) {
        s.close();
        connection.delivery().release(s.topic());
    }

    /** The connection closed. */
    void close() {
        closed = true;
        patterns.values().forEach(this::end);
        patterns.clear();
    }

    /** Each pattern topic's cursor, for what the connection does to all its subscriptions. */
    void forEachTopic(BiConsumer<String, Subscription> action) {
        for (Pattern p : patterns.values().toArray(new Pattern[0])) {
            for (Map.Entry<String, Subscription> e : List.copyOf(p.topics.entrySet())) {
                action.accept(e.getKey(), e.getValue());
            }
        }
    }
}
