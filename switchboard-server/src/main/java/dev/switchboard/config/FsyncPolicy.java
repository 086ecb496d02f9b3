package dev.switchboard.config;

/**
 * When an acknowledged publish reaches stable storage.
 * <ul>
 *   <li>{@code always}: the write-ahead log is fsynced before the ack; concurrent publishes share one fsync (group commit).</li>
 *   <li>{@code batch}: acked once written to the OS; fsynced every {@code --fsync-interval}.</li>
 *   <li>{@code never}: acked once written to the OS; the kernel flushes when it likes.</li>
 * </ul>
 * Every policy survives {@code kill -9} of the server (the OS holds the write); only {@code always} survives power loss.
 */
public enum FsyncPolicy { ALWAYS, BATCH, NEVER }
