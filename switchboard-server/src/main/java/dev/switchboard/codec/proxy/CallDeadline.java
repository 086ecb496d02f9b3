package dev.switchboard.codec.proxy;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The upstream timeout of the proxied request in flight on one client connection (or HTTP/2 stream). One timer per
 * connection that re-arms itself, instead of a schedule and a cancel per request (a measurable share of a proxied
 * request's CPU): a request sets its deadline and clears it at the response head, and the timer, once armed, is left
 * to fire; it then catches up with whatever deadline is set by then, or stops when none is. Time is the loop's own
 * clock (a test's loop freezes it), so each deadline holds to the nanosecond whichever came before it.
 */
final class CallDeadline {
    /** What is told when its deadline passes. */
    interface Owner {
        void timedOut();
    }

    private final EventExecutor loop;
    private ScheduledFuture<?> timer;
    /** When the armed timer fires, on the loop's clock. */
    private long timerAt;
    private long deadline;
    /** Null when no deadline is set. */
    private Owner owner;

    CallDeadline(EventExecutor loop) {
        this.loop = loop;
    }

    /** {@code owner} is timed out {@code nanos} from now unless it clears its deadline before. */
    void set(Owner owner, long nanos) {
        this.owner = owner;
        deadline = now() + nanos;
        if (timer != null && timerAt - deadline <= 0) {
            return; // fires no later, and re-arms for the rest
        }
        stopTimer(); // armed for a longer timeout (another route's)
        arm();
    }

    /** {@code owner}'s deadline no longer holds (an earlier request's is not another's to clear). */
    void clear(Owner owner) {
        if (this.owner == owner) {
            this.owner = null;
        }
    }

    /** The connection is gone: nothing more fires. */
    void close() {
        owner = null;
        stopTimer();
    }

    private void arm() {
        timerAt = deadline;
        timer = loop.schedule(this::fire, deadline - now(), TimeUnit.NANOSECONDS);
    }

    private void fire() {
        timer = null;
        Owner o = owner;
        if (o == null) {
            return;
        }
        if (deadline - now() > 0) {
            arm();
            return;
        }
        owner = null;
        o.timedOut();
    }

    private void stopTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private long now() {
        return loop.ticker().nanoTime();
    }
}
