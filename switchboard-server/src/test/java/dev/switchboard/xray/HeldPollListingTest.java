package dev.switchboard.xray;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A connection lists its held long polls while they wait, and forgets done ones without a callback per poll. */
class HeldPollListingTest {
    /** A poll that, unlike the real ones, keeps listing itself when done: only forgetting it hides it. */
    private static final class Poll extends CompletableFuture<Void> implements ConnectionStats.SubscriptionSource {
        private final long lag;

        Poll(long lag) {
            this.lag = lag;
        }

        @Override
        public List<ConnectionStats.SubscriptionView> subscriptions() {
            return List.of(new ConnectionStats.SubscriptionView("t", 1, lag));
        }
    }

    private static long[] lag(ConnectionStats stats) {
        long[] sumAndMax = new long[2];
        stats.addLag(sumAndMax);
        return sumAndMax;
    }

    @Test
    void donePollsLeaveTheListWhenTheNextIsListedOrTheLagIsSummed() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ConnectionStats stats = ConnectionStats.of(ch);
        Poll first = new Poll(5);
        stats.listWhileHeld(first);
        assertThat(lag(stats)).containsExactly(5, 5);

        first.complete(null);
        Poll second = new Poll(7);
        stats.listWhileHeld(second);
        assertThat(lag(stats)).as("the first, done, was forgotten").containsExactly(7, 7);

        Poll third = new Poll(2);
        stats.listWhileHeld(third); // two held at once (HTTP/2 streams share the connection's stats)
        assertThat(lag(stats)).containsExactly(9, 7);
        second.cancel(false);
        assertThat(lag(stats)).containsExactly(2, 2);
        ch.finishAndReleaseAll();
    }
}
