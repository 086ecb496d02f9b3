package dev.switchboard.codec.websocket;

import dev.switchboard.auth.Grants;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.DeliverySink;
import io.netty.channel.ChannelHandlerContext;

/**
 * The WebSocket connection as its {@link TopicSubscriptions} and {@link PatternSubscriptions} see it: their push end,
 * and what they share, asked of the connection rather than kept in fields of each holder, which every idle
 * connection would pay for (BENCHMARKS.md, "Live heap per idle WebSocket connection: holders built on first use").
 *
 * <p>Its ops are answered in the order sent: an op that waits for the engine off the event loop holds the ops after
 * it until it is answered.
 */
interface SubscriptionHost extends DeliverySink {
    ChannelHandlerContext ctx();

    Delivery delivery();

    /** What the connection's token allows. */
    Grants grants();

    /** The connection's bound on {@link #subscriptionCount}. */
    int maxSubscriptions();

    /** All the connection's subscriptions: exact topics, each topic a pattern follows, and group memberships. */
    int subscriptionCount();

    /** Later ops wait (and reading pauses) until the matching {@link #releaseOps}. */
    void holdOps();

    /** The op that held the others is answered: those waiting run, in order. */
    void releaseOps();
}
