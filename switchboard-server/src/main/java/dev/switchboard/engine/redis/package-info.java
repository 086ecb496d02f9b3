/**
 * The Redis engine: the engine contract ({@link dev.switchboard.broker.Broker}) on a Redis that many Switchboard
 * nodes share (docs/cluster.md). Lua scripts make each change atomic in Redis; sharded pub/sub wakes the watchers of
 * every node and carries live (never stored) messages between nodes ({@code RedisLive}).
 *
 * <p>Threads: one writer, one answer thread, one watcher dispatcher and one timer per engine, besides Lettuce's own.
 */
package dev.switchboard.engine.redis;
