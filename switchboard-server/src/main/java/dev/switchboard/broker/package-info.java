/**
 * The engine contract: what every engine offers the layers above it, in engine-neutral types ({@link
 * dev.switchboard.broker.Broker}: append with an idempotency key, read a range, positions with an epoch, watch a
 * topic, list, retention, delete, atomic transactions). Nothing here knows a transport, a store or HTTP.
 *
 * <p>Threads: interfaces and immutable values; implementations say which threads they use.
 */
package dev.switchboard.broker;
