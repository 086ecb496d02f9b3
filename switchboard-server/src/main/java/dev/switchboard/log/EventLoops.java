package dev.switchboard.log;

import io.netty.channel.SingleThreadEventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;

/**
 * The event loop the calling thread runs, if any: an event loop wakes the writer once per loop iteration instead of
 * once per publish, since on a busy core each wake-up is a context switch and costs more than the publish itself.
 */
final class EventLoops {
    private EventLoops() {}

    /** The calling thread's event loop, or null on any other thread. */
    static SingleThreadEventLoop current() {
        EventExecutor executor = ThreadExecutorMap.currentExecutor();
        return executor instanceof SingleThreadEventLoop loop && loop.inEventLoop() ? loop : null;
    }
}
