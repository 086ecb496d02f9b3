/**
 * The x-ray: what every connection is doing and what the kernel says about its socket, and how long each stage of
 * the message path takes. {@link dev.switchboard.xray.ConnectionStats} sits at the head of each connection's
 * pipeline and counts on the connection's event loop (plain fields, no locks); the layers above report what only they
 * know (the transport, messages, subscriptions) to it. {@link dev.switchboard.xray.ConnectionRegistry} answers
 * {@code /v1/admin/connections} by asking each event loop for its own connections and reading {@code /proc/net/tcp}
 * once per request off the loops; {@link dev.switchboard.xray.StageTimer} keeps the stage histograms.
 *
 * <p>Threads: counters are written on their connection's loop only and read racily by scrapes; snapshots are taken on
 * the loops.
 */
package dev.switchboard.xray;
