package dev.switchboard.codec.websocket;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.broker.Handoff;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.presence.Presence;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * A WebSocket connection's subscriptions to single topics ({@code subscribe} with a topic name): a cursor on each,
 * pushed through the connection, and the connection's presence on each. Beside them are its
 * {@link PatternSubscriptions} and {@link GroupMemberships}.
 *
 * <p>Threads: the connection's event loop; a feed that opens off it is handed back.
 */
final class TopicSubscriptions {
    /** The connection's own push end: each cursor delivers through it. */
    private final SubscriptionHost connection;
    private final Presence presence;
    /**
     * A cursor and its presence in one entry: a second map of presences cost each subscriber 136 B (BENCHMARKS.md,
     * "Live heap per idle WebSocket subscriber").
     */
    private final Map<String, Subscribed> subscriptions = new LinkedHashMap<>();
    private boolean closed;

    TopicSubscriptions(SubscriptionHost connection, Presence presence) {
        this.connection = connection;
        this.presence = presence;
    }

    int size() {
        return subscriptions.size();
    }

    /**
     * {@code {"op":"subscribe","topic","from"}}: answered {@code subscribed} with the first offset it will send. Again
     * on the same topic, it starts over at the new {@code from}. When the feed opens off the loop (on a shared engine,
     * a round trip to Redis), the connection's later ops wait for the answer.
     */
    void subscribe(String name, StartPosition from, String id) {
        TopicNames.validate(name);
        connection.grants().requireSubscribe(name);
        Subscribed existing = subscriptions.get(name);
        if (existing == null && connection.subscriptionCount() >= connection.maxSubscriptions()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "at most " + connection.maxSubscriptions()
                    + " subscriptions per connection");
        }
        CompletableFuture<TopicFeed> attaching = connection.delivery().attachAsync(name);
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            subscribed(name, attaching.join(), from, id); // the embedded engine, or a feed open already
            return;
        }
        connection.holdOps();
        attaching.whenComplete((topic, error) -> Handoff.execute(connection.executor(), () -> {
            if (closed) {
                if (topic != null) {
                    connection.delivery().release(topic);
                }
            } else if (error == null) {
                subscribed(name, topic, from, id);
            } else {
                ApiException refusal = Replies.refusal(error, "cannot open topic '" + name + "'");
                connection.ctx().writeAndFlush(Replies.errorFrame(id, refusal.code().wire(), refusal.getMessage()));
            }
            connection.releaseOps();
        }));
    }

    private void subscribed(String name, TopicFeed topic, StartPosition from, String id) {
        Subscribed existing = subscriptions.get(name);
        if (existing != null) {
            end(existing.cursor());
        }
        Subscription s = connection.delivery().subscribe(topic, from, connection);
        subscriptions.put(name, new Subscribed(s, existing != null ? existing.presence()
                : presence.join(name, connection.grants().subject(), connection.transport())));
        ObjectNode reply = Replies.reply("subscribed", id).put("topic", name).put("next", s.next());
        connection.ctx().write(new TextWebSocketFrame(reply.toString()));
        s.start();
        connection.ctx().flush();
    }

    /** {@code {"op":"unsubscribe","topic"}}. */
    void unsubscribe(String name, String id) {
        TopicNames.validate(name);
        Subscribed s = subscriptions.remove(name);
        if (s == null) {
            throw new ApiException(ErrorCode.NOT_SUBSCRIBED, "not subscribed to '" + name + "'");
        }
        end(s.cursor());
        presence.leave(s.presence());
        connection.ctx().writeAndFlush(new TextWebSocketFrame(Replies.reply("unsubscribed", id).put("topic", name)
                .toString()));
    }

    /** The topic was deleted: its subscription ends (the connection tells the client). */
    void deleted(String topic) {
        Subscribed s = subscriptions.remove(topic);
        if (s != null) {
            connection.delivery().release(s.cursor().topic());
            presence.leave(s.presence());
        }
    }

    /** The connection is writable again: each cursor sends what it held back. */
    void drain() {
        for (Subscribed s : subscriptions.values().toArray(new Subscribed[0])) {
            s.cursor().drain();
        }
    }

    /** Each topic's cursor, for what the connection does to all its subscriptions. */
    void forEachTopic(BiConsumer<String, Subscription> action) {
        subscriptions.forEach((topic, s) -> action.accept(topic, s.cursor()));
    }

    /** A loop, not a lambda: the lag watcher calls it every second on every connection (ConnectionStats). */
    void addLag(long[] sumAndMax) {
        for (Subscribed s : subscriptions.values()) {
            ConnectionStats.SubscriptionView.addLag(sumAndMax,
                    ConnectionStats.SubscriptionView.lag(s.cursor().next(), s.cursor().topic().lastOffset()));
        }
    }

    /** The connection closed. */
    void close() {
        closed = true;
        for (Subscribed s : subscriptions.values()) {
            end(s.cursor());
            presence.leave(s.presence());
        }
        subscriptions.clear();
    }

    private void end(Subscription s) {
        s.close();
        connection.delivery().release(s.topic());
    }

    /** A topic's cursor and this connection's presence on it (null on a {@code _} topic). */
    private record Subscribed(Subscription cursor, Presence.Member presence) {
    }
}
