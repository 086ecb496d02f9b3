package dev.switchboard.jobs;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.JobLedger;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.jobs.JobService.Claimed;
import dev.switchboard.jobs.JobService.QueueInfo;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * Jobs kept by the engine and shared by its nodes ({@link JobLedger}, Redis): no state here, every call is one
 * atomic operation there, by the engine's clock. This side names the job, checks the lease token's presence and
 * renders what the public form of a result shows, which the jobs layer owns.
 */
final class LedgerJobStore implements JobStore {
    private final Broker broker;
    private final JobLedger ledger;
    private final JobRules rules;
    private final SecureRandom random = new SecureRandom();

    LedgerJobStore(Broker broker, JobLedger ledger, JobRules rules) {
        this.broker = broker;
        this.ledger = ledger;
        this.rules = rules;
    }

    @Override
    public CompletableFuture<Job> find(String id) {
        return ledger.find(id).thenApply(f -> f == null ? null : JobJson.fromFields(f.values()));
    }

    /** The engine writes every event to the job's topic with the change (jobs.lua): always readable. */
    @Override
    public CompletableFuture<Void> writeOut(String id) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<byte[]> storedResult(String id) {
        return ledger.result(id);
    }

    /**
     * Follows the job's topic, which every node hears of: a change's state can be read before its event is heard,
     * so a look woken by the event finds the new state.
     */
    @Override
    public Runnable follow(String id, Consumer<Job> changed) {
        Runnable look = () -> find(id).whenComplete((now, e) -> {
            if (e == null) { // else the next change or the end of the wait looks again
                changed.accept(now);
            }
        });
        Broker.Watch watch = broker.watch(JobKeys.topic(id), TopicWatcher.onChange(look));
        return watch::cancel;
    }

    @Override
    public CompletableFuture<QueueInfo> queue(String queue) {
        return ledger.queue(queue).thenApply(q -> {
            Map<JobStatus, Integer> counts = new EnumMap<>(JobStatus.class);
            boolean known = q.settings() != null;
            for (JobStatus s : JobStatus.values()) {
                int n = Math.toIntExact(q.counts().getOrDefault(s.wire(), 0L));
                counts.put(s, n);
                known |= n > 0;
            }
            if (!known) {
                return null;
            }
            JobLedger.Settings s = q.settings();
            return new QueueInfo(queue, s == null ? QueueSettings.DEFAULTS : new QueueSettings(s.maxAttempts(),
                    Duration.ofMillis(s.leaseMillis()), Duration.ofMillis(s.resultTtlMillis())), counts);
        });
    }

    @Override
    public CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key) {
        return job(ledger.submit(queue, JobKeys.newId(random), type, payload, key));
    }

    @Override
    public CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Duration lease,
                                                  ScheduledExecutorService timer) {
        return ledger.claim(queue, max, wait, lease == null ? null : lease.toMillis()).thenApply(claimed ->
                claimed.stream().map(c -> new Claimed(JobJson.fromFields(c.job().values()), c.payload())).toList());
    }

    @Override
    public CompletableFuture<Job> progress(String id, String token, Integer percent, String message) {
        rules.checkLeaseToken(token);
        return job(ledger.progress(id, token, percent, message));
    }

    @Override
    public CompletableFuture<Job> heartbeat(String id, String token) {
        rules.checkLeaseToken(token);
        return job(ledger.heartbeat(id, token));
    }

    @Override
    public CompletableFuture<Job> complete(String id, String token, String type, byte[] result) {
        rules.checkLeaseToken(token);
        boolean inline = result.length <= JobService.INLINE_RESULT_BYTES;
        return job(ledger.complete(id, token, type, result,
                JobJson.resultFields(type, result.length, inline ? result : null).getBytes(StandardCharsets.UTF_8),
                inline));
    }

    @Override
    public CompletableFuture<Job> fail(String id, String token, String reason, boolean retry) {
        rules.checkLeaseToken(token);
        return job(ledger.fail(id, token, reason, retry));
    }

    @Override
    public CompletableFuture<Job> cancel(String id) {
        return job(ledger.cancel(id));
    }

    @Override
    public CompletableFuture<Void> configure(String queue, QueueSettings s) {
        return ledger.configure(queue, new JobLedger.Settings(s.maxAttempts(), s.lease().toMillis(),
                s.resultTtl().toMillis()));
    }

    private static CompletableFuture<Job> job(CompletableFuture<JobLedger.Fields> fields) {
        return fields.thenApply(f -> JobJson.fromFields(f.values()));
    }

    @Override
    public void close() {
        // The engine owns the ledger and closes it with itself.
    }
}
