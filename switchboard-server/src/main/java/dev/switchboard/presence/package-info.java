/**
 * Who is here now: the subscribers of each topic on this node, listed on request and announced as join and leave
 * events on the topic's {@code _presence.<topic>}. Built on the broker contract only.
 *
 * <p>Threads: any; members join and leave on their connection's event loop.
 */
package dev.switchboard.presence;
