package dev.switchboard.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.Limits;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;

/**
 * The engine contract ({@link Broker}, docs/architecture.md "The engine contract"), checked through the interface
 * only, so that every engine passes the same tests: extend this class with one that opens the engine under test. The
 * tests are in the interfaces it implements, one per part of the contract, so that each engine's class runs them all
 * and starts its servers once.
 */
@Timeout(120)
public abstract class BrokerContractTest implements AppendContract, TopicContract, WatchContract, CommitContract {
    /** The engine under test, as the last {@link #open} or {@link #restart} returned it; closed after each test. */
    protected Broker broker;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    /** Opens the engine under test on fresh, empty storage with these limits and this retention for new topics. */
    protected abstract Broker open(Limits limits, Retention defaultRetention);

    /**
     * Closes the engine the last {@link #open} (or restart) returned, if it is still open, and opens it again with
     * the same settings on the same storage.
     */
    protected abstract Broker restart();

    @Override
    public final Broker broker() {
        return broker;
    }

    @Override
    public final Broker openWith(Limits limits, Retention defaultRetention) {
        return broker = open(limits, defaultRetention);
    }

    @Override
    public final Broker reopen() {
        return broker = restart();
    }

    @Override
    public final ExecutorService pool() {
        return pool;
    }

    @AfterEach
    void closeEngine() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        if (broker != null) {
            broker.close();
        }
    }
}
