/**
 * Short and long polls of a topic over HTTP: the request's parameters in, the poll answer's JSON out; the holding
 * itself is delivery's.
 *
 * <p>Threads: the connection's event loop.
 */
package dev.switchboard.codec.longpoll;
