/**
 * Maps method and path to an endpoint and answers pipelined requests of a connection in order.
 *
 * <p>Threads: one router per connection, on its event loop.
 */
package dev.switchboard.router;
