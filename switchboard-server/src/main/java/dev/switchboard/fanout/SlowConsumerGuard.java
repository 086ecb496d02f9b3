package dev.switchboard.fanout;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Ends a push connection whose socket stays unwritable (its reader stopped reading: the kernel send buffer and our
 * outbound buffer are full) for longer than the timeout. Until then the subscription simply pauses at its offset, so
 * memory stays bounded either way; the timeout frees the connection slot and tells the client to resume.
 * Call {@link #writabilityChanged()} from the channel's loop.
 */
public final class SlowConsumerGuard {
    private final Channel channel;
    private final long timeoutNanos;
    private final Runnable onSlow;
    private ScheduledFuture<?> timer;

    public SlowConsumerGuard(Channel channel, Duration timeout, Runnable onSlow) {
        this.channel = channel;
        this.timeoutNanos = timeout.toNanos();
        this.onSlow = onSlow;
    }

    public void writabilityChanged() {
        if (channel.isWritable()) {
            cancel();
        } else if (timer == null) {
            timer = channel.eventLoop().schedule(() -> {
                timer = null;
                if (!channel.isWritable() && channel.isActive()) {
                    onSlow.run();
                }
            }, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
