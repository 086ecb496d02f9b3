/**
 * Delivery, the same for every engine: a {@link dev.switchboard.fanout.TopicFeed} per topic with readers on this
 * node (positions, the cache of its newest messages, push subscribers, held long polls), fed by the engine's watch;
 * subscribers are cursors ({@link dev.switchboard.fanout.Subscription}), woken once per event loop per commit; short
 * and long polls; slow-consumer handling.
 *
 * <p>Threads: a feed hears of changes on the engine's thread and hands the work to each subscriber's event loop;
 * a subscription and its sink run on that loop only.
 */
package dev.switchboard.fanout;
