/**
 * The embedded engine: topics in a RocksDB log on local disk ({@link dev.switchboard.log.EmbeddedBroker}). One
 * writer thread ({@code CommitLoop}) owns offsets, topic state and every write, and commits everything queued as
 * one atomic batch with at most one fsync (group commit); a small pool of reader threads serves reads.
 *
 * <p>Threads: the writer thread owns all state changes; readers only read volatile fields and the store. No event
 * loop ever calls into the store.
 */
package dev.switchboard.log;
