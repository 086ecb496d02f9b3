package dev.switchboard.config;

/**
 * Socket options applied to every accepted connection.
 *
 * @param tcpNoDelay    disable Nagle's algorithm (on by default: a pushed message should leave at once)
 * @param sendBuffer    SO_SNDBUF in bytes, 0 = kernel default (autotuned)
 * @param receiveBuffer SO_RCVBUF in bytes, 0 = kernel default (autotuned)
 * @param backlog       listen backlog
 * @param writeLowWaterMark  bytes queued in user space below which a channel turns writable again
 * @param writeHighWaterMark bytes queued in user space above which a channel turns unwritable and pushing stops
 */
public record SocketOptions(boolean tcpNoDelay, int sendBuffer, int receiveBuffer, int backlog,
                            int writeLowWaterMark, int writeHighWaterMark) {
    public static SocketOptions defaults() {
        return new SocketOptions(true, 0, 0, 4096, 32 * 1024, 64 * 1024);
    }
}
