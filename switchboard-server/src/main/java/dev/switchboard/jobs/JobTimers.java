package dev.switchboard.jobs;

import dev.switchboard.wire.ApiException;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lease expiry and the result-TTL sweep, on their own thread so that no request pays for them. They only look at the
 * visible state to see whether a pass is due and then submit it; the pass runs on the writer against its own maps,
 * so a job changed in between is judged again there.
 */
final class JobTimers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JobTimers.class);
    private static final long EXPIRY_CHECK_MILLIS = 250;
    private static final long SWEEP_MILLIS = 60_000;

    private final JobStateMachine machine;
    private final Map<String, Job> visible;
    private final Map<String, QueueSettings> visibleSettings;
    private final ScheduledExecutorService timer;

    /** Starts the timer thread. */
    JobTimers(JobStateMachine machine, Map<String, Job> visible, Map<String, QueueSettings> visibleSettings) {
        this.machine = machine;
        this.visible = visible;
        this.visibleSettings = visibleSettings;
        timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("switchboard-jobs-timer").daemon(true).factory());
        timer.scheduleWithFixedDelay(this::expireLeasesIfDue, EXPIRY_CHECK_MILLIS, EXPIRY_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::sweepIfDue, 0, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void expireLeasesIfDue() {
        long now = System.currentTimeMillis();
        if (machine.running().stream().anyMatch(j -> leaseExpired(j, now))) {
            submitQuietly(() -> machine.expireLeases(JobTimers::leaseExpired));
        }
    }

    private void sweepIfDue() {
        long now = System.currentTimeMillis();
        if (visible.values().stream().anyMatch(j -> expired(j, now))) {
            submitQuietly(() -> machine.removeExpired(this::expired));
        }
    }

    private static boolean leaseExpired(Job j, long now) {
        return j.status() == JobStatus.RUNNING && j.leaseExpires() <= now;
    }

    /** Finished, and kept for its queue's result TTL. */
    private boolean expired(Job j, long now) {
        return j.status().isTerminal()
                && j.updated() + visibleSettings.getOrDefault(j.queue(), QueueSettings.DEFAULTS).resultTtl().toMillis()
                <= now;
    }

    /** An engine that refuses changes now is asked again at the next tick. */
    private void submitQuietly(Runnable submit) {
        try {
            submit.run();
        } catch (ApiException e) {
            log.debug("job timer change deferred: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
