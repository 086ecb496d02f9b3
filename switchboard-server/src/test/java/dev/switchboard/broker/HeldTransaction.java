package dev.switchboard.broker;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A transaction whose {@code stage} holds the engine's writer until {@link #release}d: transactions run
 * one at a time in submission order, so what is submitted meanwhile queues behind it and is staged together once it
 * is released. Stages nothing itself. Always release it (in a {@code finally}), or the engine waits a minute.
 */
public final class HeldTransaction extends TestTransaction {
    private static final long LONGEST_HOLD_SECONDS = 60;
    private final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    public HeldTransaction() {
        super(stage -> {});
    }

    /** Submits it and waits until the writer is held. */
    public static HeldTransaction holding(Broker broker) {
        HeldTransaction held = new HeldTransaction();
        broker.submit(held);
        held.awaitHolding();
        return held;
    }

    @Override
    public void stage(Stage stage) {
        holding.countDown();
        try {
            // Bounded, so that a test that forgets to release it cannot hang the engine forever.
            released.await(LONGEST_HOLD_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        super.stage(stage);
    }

    public void awaitHolding() {
        try {
            if (!holding.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the engine did not stage the held transaction within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public void release() {
        released.countDown();
    }
}
