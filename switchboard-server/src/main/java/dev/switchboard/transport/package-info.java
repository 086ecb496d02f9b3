/**
 * The socket layer: the I/O engine (io_uring, epoll, NIO) and the connection limit.
 *
 * <p>Threads: Netty's event loops; each connection belongs to one for its life.
 */
package dev.switchboard.transport;
