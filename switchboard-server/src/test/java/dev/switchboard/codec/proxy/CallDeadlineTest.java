package dev.switchboard.codec.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One connection's upstream deadline on a loop whose clock the test moves: each request's deadline holds to the
 * nanosecond, whatever the one timer was armed for by the requests before it.
 */
class CallDeadlineTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration JUST = Duration.ofNanos(1);

    private final EmbeddedChannel loop = frozen();
    private final CallDeadline deadline = new CallDeadline(loop.eventLoop());
    private final List<String> timedOut = new ArrayList<>();

    @AfterEach
    void close() {
        loop.finishAndReleaseAll();
    }

    @Test
    void aRequestTimesOutAtItsDeadline() {
        deadline.set(call("a"), TIMEOUT.toNanos());
        timesOutAfter(TIMEOUT, "a");
        advance(TIMEOUT.multipliedBy(3));
        assertThat(timedOut).as("once").containsExactly("a");
    }

    @Test
    void aClearedDeadlineNeverFires() {
        CallDeadline.Owner a = call("a");
        deadline.set(a, TIMEOUT.toNanos());
        advance(TIMEOUT.minus(JUST));
        deadline.clear(a);
        advance(TIMEOUT.multipliedBy(3));
        assertThat(timedOut).isEmpty();
    }

    @Test
    void aLaterRequestKeepsItsOwnDeadlineThoughTheTimerWasArmedForAnEarlierOne() {
        for (int i = 0; i < 5; i++) {
            CallDeadline.Owner answered = call("answered " + i);
            deadline.set(answered, TIMEOUT.toNanos());
            advance(Duration.ofMillis(3_300)); // off the timeout's own period
            deadline.clear(answered);
        }
        deadline.set(call("slow"), TIMEOUT.toNanos());
        timesOutAfter(TIMEOUT, "slow");
    }

    @Test
    void aShorterTimeoutAfterALongerOneFiresAtItsOwnTime() {
        CallDeadline.Owner slowRoute = call("slow route");
        deadline.set(slowRoute, TIMEOUT.multipliedBy(6).toNanos());
        deadline.clear(slowRoute);
        deadline.set(call("fast route"), Duration.ofSeconds(2).toNanos());
        timesOutAfter(Duration.ofSeconds(2), "fast route");
    }

    @Test
    void anEarlierRequestCannotClearTheDeadlineOfTheOneAfterIt() {
        CallDeadline.Owner first = call("first");
        deadline.set(first, TIMEOUT.toNanos());
        deadline.set(call("second"), TIMEOUT.toNanos());
        deadline.clear(first); // the first one ends after the second has started (a WebSocket passthrough's, say)
        advance(TIMEOUT);
        assertThat(timedOut).containsExactly("second");
    }

    @Test
    void nothingFiresOnceTheConnectionIsClosed() {
        deadline.set(call("a"), TIMEOUT.toNanos());
        deadline.close();
        advance(TIMEOUT.multipliedBy(2));
        assertThat(timedOut).isEmpty();
    }

    /** Nothing times out until {@code d} from now, to the nanosecond; then {@code name} does. */
    private void timesOutAfter(Duration d, String name) {
        advance(d.minus(JUST));
        assertThat(timedOut).isEmpty();
        advance(JUST);
        assertThat(timedOut).containsExactly(name);
    }

    private CallDeadline.Owner call(String name) {
        return () -> timedOut.add(name);
    }

    private void advance(Duration d) {
        loop.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        loop.runPendingTasks();
    }

    private static EmbeddedChannel frozen() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        return ch;
    }
}
