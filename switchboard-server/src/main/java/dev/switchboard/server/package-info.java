/**
 * The composition root: {@link dev.switchboard.server.SwitchboardServer} opens the engine, builds delivery, jobs
 * and the endpoints on top of it, binds the port and assembles each connection's pipeline. The only package that
 * knows every other one.
 *
 * <p>Threads: start and close run on the caller's thread; everything else on the threads of the parts it builds.
 */
package dev.switchboard.server;
