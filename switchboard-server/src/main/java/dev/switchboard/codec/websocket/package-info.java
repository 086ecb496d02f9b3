/**
 * WebSocket: the upgrade and one session per connection (subscribe, unsubscribe and publish ops; pushed messages as
 * whole frames encoded once per message).
 *
 * <p>Threads: each session runs on its connection's event loop.
 */
package dev.switchboard.codec.websocket;
