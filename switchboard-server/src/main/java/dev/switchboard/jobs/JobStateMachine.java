package dev.switchboard.jobs;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.Transaction;
import dev.switchboard.jobs.JobService.Claimed;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs' transitions, each one {@link Transaction} that stages a job's record together with its event. Its maps
 * belong to the engine's writer thread, which runs transactions one at a time, so they need no locks; readers see
 * the visible maps, which a change publishes once committed and a failed commit rebuilds these maps from. Claims
 * that find no job wait here, woken by a submit or a requeue in the same commit, oldest job first (FIFO per queue).
 */
final class JobStateMachine {
    private static final Logger log = LoggerFactory.getLogger(JobStateMachine.class);
    private static final long QUEUED_PAYLOAD_BYTES = 16L * 1024 * 1024;

    private final Broker broker;
    private final JobRules rules;
    private final SecureRandom random = new SecureRandom();

    // Writer-thread state.
    private final Map<String, Job> current = new HashMap<>();
    private final Map<String, TreeMap<Long, String>> queued = new HashMap<>();
    private final Map<String, ArrayDeque<ClaimWaiter>> waitingClaims = new HashMap<>();
    private final Map<String, QueueSettings> settings = new HashMap<>();
    private final Map<String, String> idsByKey = new HashMap<>();
    /**
     * Payloads of jobs queued since the start, up to {@link #QUEUED_PAYLOAD_BYTES}: a claim takes its payload from
     * here rather than reading it back from the store (a read per claim was 8 % of the writer's time). The store
     * keeps every payload; a payload not here is read from it.
     */
    private final Map<String, byte[]> queuedPayloads = new HashMap<>();
    private long queuedPayloadBytes;
    private long nextSeq = 1;
    /** The change being staged. */
    private Change<?> pendingChange;

    // What readers see: the facade's, published here after each commit.
    private final ConcurrentMap<String, Job> visible;
    private final ConcurrentMap<String, QueueSettings> visibleSettings;
    private final JobFollowers followers;
    /**
     * The running jobs among the visible ones: lease expiry checks these every 250 ms, so the check costs the jobs
     * under lease, not every finished job kept for its result TTL (a scan of all of them took 15 % of a busy server).
     */
    private final ConcurrentMap<String, Job> visibleRunning = new ConcurrentHashMap<>();

    /** Starts from the visible state, which must then hold what the store holds. */
    JobStateMachine(Broker broker, JobRules rules, ConcurrentMap<String, Job> visible,
                    ConcurrentMap<String, QueueSettings> visibleSettings, JobFollowers followers) {
        this.broker = broker;
        this.followers = followers;
        this.rules = rules;
        this.visible = visible;
        this.visibleSettings = visibleSettings;
        for (Job j : visible.values()) {
            nextSeq = Math.max(nextSeq, j.seq() + 1);
            trackRunning(j);
        }
        rebuild();
    }

    /** The visible jobs that are running, any thread. */
    Collection<Job> running() {
        return visibleRunning.values();
    }

    private void trackRunning(Job j) {
        if (j.status() == JobStatus.RUNNING) {
            visibleRunning.put(j.id(), j);
        } else {
            visibleRunning.remove(j.id());
        }
    }

    CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                if (key != null) {
                    String earlier = idsByKey.get(keyOf(queue, key));
                    if (earlier != null && current.containsKey(earlier)) {
                        return current.get(earlier);
                    }
                }
                String id = JobKeys.newId(random);
                Job j = new Job(id, queue, JobStatus.QUEUED, 1, null, null, 1, s.now(), s.now(), type, payload.length,
                        null, 0, null, null, null, 0, 0, nextSeq++, key, List.of());
                s.putRecord(JobKeys.payload(id), payload);
                if (queuedPayloadBytes + payload.length <= QUEUED_PAYLOAD_BYTES) {
                    queuedPayloads.put(id, payload);
                    queuedPayloadBytes += payload.length;
                }
                save(s, j, JobService.STATUS_EVENT_TYPE);
                assignWaitingClaims(s, queue);
                return current.get(id);
            }
        });
    }

    /**
     * Up to {@code max} of the queue's oldest queued jobs, oldest first, in one transaction; when none is queued, a
     * held claim that takes what the first submit or requeue brings within {@code wait} (empty when none came).
     */
    CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Duration lease,
                                           ScheduledExecutorService timer) {
        CompletableFuture<List<Claimed>> result = new CompletableFuture<>();
        run(new Change<Void>() {
            @Override
            Void apply(Transaction.Stage s) {
                long leaseMillis = (lease != null ? lease : settingsOf(queue).lease()).toMillis();
                List<Claimed> claimed = claimOldest(s, queue, max, leaseMillis);
                if (!claimed.isEmpty() || wait.isZero()) {
                    afterCommit(() -> result.complete(claimed));
                } else {
                    ClaimWaiter w = new ClaimWaiter(max, leaseMillis, result);
                    ArrayDeque<ClaimWaiter> waiting = waitingClaims.computeIfAbsent(queue, q -> new ArrayDeque<>());
                    // Claims that timed out or went away are dropped here, so workers polling an idle queue
                    // don't grow this list.
                    waiting.removeIf(held -> held.result.isDone());
                    waiting.add(w);
                    timer.schedule(() -> {
                        if (w.take()) {
                            result.complete(List.of());
                        }
                    }, wait.toNanos(), TimeUnit.NANOSECONDS);
                }
                return null;
            }
        }).whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    CompletableFuture<Job> progress(String id, String token, Integer percent, String message) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now());
                return save(s, j.progressed(percent, message, s.now()), JobService.PROGRESS_EVENT_TYPE);
            }
        });
    }

    CompletableFuture<Job> heartbeat(String id, String token) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now()).leaseExtended(s.now());
                s.putRecord(JobKeys.job(id), JobJson.record(j));
                current.put(id, j);
                changed.add(j);
                return j;
            }
        });
    }

    CompletableFuture<Job> complete(String id, String token, String type, byte[] result) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now());
                s.putRecord(JobKeys.result(id), result);
                byte[] inline = result.length <= JobService.INLINE_RESULT_BYTES ? result : null;
                return save(s, j.succeeded(type, result.length, inline, s.now()), JobService.STATUS_EVENT_TYPE);
            }
        });
    }

    CompletableFuture<Job> fail(String id, String token, String reason, boolean retry) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now());
                return retryOrFail(s, j, reason, retry);
            }
        });
    }

    CompletableFuture<Job> cancel(String id) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = current.get(id);
                if (j == null) {
                    throw new ApiException(ErrorCode.JOB_NOT_FOUND, "no job '" + TopicNames.abbreviate(id) + "'");
                }
                if (j.status().isTerminal()) {
                    throw new ApiException(ErrorCode.JOB_FINISHED, "job '" + id + "' already " + j.status().wire());
                }
                return save(s, j.withStatus(JobStatus.CANCELLED, s.now()), JobService.STATUS_EVENT_TYPE);
            }
        });
    }

    CompletableFuture<Void> configure(String queue, QueueSettings newSettings) {
        return run(new Change<>() {
            @Override
            Void apply(Transaction.Stage s) {
                s.putRecord(JobKeys.queue(queue), JobJson.settingsRecord(newSettings));
                settings.put(queue, newSettings);
                afterCommit(() -> visibleSettings.put(queue, newSettings));
                return null;
            }
        });
    }

    /**
     * Writes the job's events kept in its record to its topic, at their own times, so their offsets are the versions
     * they announced; from then on its changes go to the topic at once. Nothing for a job written out or gone.
     */
    CompletableFuture<Void> writeOut(String id) {
        return run(new Change<>() {
            @Override
            Void apply(Transaction.Stage s) {
                Job j = current.get(id);
                if (j == null || j.unwritten() == null) {
                    return null;
                }
                Job written = j.written();
                long version = 0;
                for (JobEvent e : j.unwritten()) {
                    checkOffset(id, ++version, s.append(JobKeys.topic(id), e.type(), e.data(), e.time()));
                }
                s.putRecord(JobKeys.job(id), JobJson.record(written));
                current.put(id, written);
                changed.add(written);
                return null;
            }
        });
    }

    /** Requeues, or fails on its last attempt, each running job whose lease {@code expired} at the commit's time. */
    CompletableFuture<Void> expireLeases(BiPredicate<Job, Long> expired) {
        // Only jobs running when the commit stages can have a lease; the visible ones are a superset of those
        // claimed before this commit, and a lease taken in this very commit cannot have expired yet.
        return forEachDue(() -> visibleRunning.keySet().stream().map(current::get).filter(Objects::nonNull).toList(),
                expired, (s, j) -> retryOrFail(s, j, "lease expired", true));
    }

    /** Deletes each job, with its records, topic and idempotency key, that {@code expired} at the commit's time. */
    CompletableFuture<Void> removeExpired(BiPredicate<Job, Long> expired) {
        return forEachDue(() -> new ArrayList<>(current.values()), expired, (s, j) -> {
            s.deleteRecord(JobKeys.job(j.id()));
            s.deleteRecord(JobKeys.payload(j.id()));
            s.deleteRecord(JobKeys.result(j.id()));
            current.remove(j.id());
            if (j.idempotencyKey() != null) {
                idsByKey.remove(keyOf(j.queue(), j.idempotencyKey()));
            }
            if (j.unwritten() == null) {
                s.deleteTopic(JobKeys.topic(j.id()));
            }
            pendingChange.afterCommit(() -> {
                visible.remove(j.id());
                visibleRunning.remove(j.id());
                followers.changed(j.id(), null);
            });
        });
    }

    /** One transaction that applies {@code change} to each candidate {@code due} names at the commit's time. */
    private CompletableFuture<Void> forEachDue(Supplier<List<Job>> candidates, BiPredicate<Job, Long> due,
                                               BiConsumer<Transaction.Stage, Job> change) {
        return run(new Change<>() {
            @Override
            Void apply(Transaction.Stage s) {
                for (Job j : candidates.get()) {
                    if (due.test(j, s.now())) {
                        change.accept(s, j);
                    }
                }
                return null;
            }
        });
    }

    // ---- helpers, inside transactions ----

    private Job leased(String id, String token, long now) {
        rules.checkLeaseToken(token);
        Job j = current.get(id);
        if (j == null) {
            throw new ApiException(ErrorCode.JOB_NOT_FOUND, "no job '" + TopicNames.abbreviate(id) + "'");
        }
        if (j.status() != JobStatus.RUNNING || !token.equals(j.leaseToken())) {
            throw new ApiException(ErrorCode.LEASE_LOST, "job '" + id + "' is " + j.status().wire()
                    + (j.status() == JobStatus.RUNNING ? " under another lease" : "")
                    + "; this worker's lease is no longer valid");
        }
        if (j.leaseExpires() <= now) {
            throw new ApiException(ErrorCode.LEASE_EXPIRED, "the lease on job '" + id + "' expired");
        }
        return j;
    }

    private Job retryOrFail(Transaction.Stage s, Job j, String reason, boolean retry) {
        int maxAttempts = settingsOf(j.queue()).maxAttempts();
        if (retry && j.attempt() < maxAttempts) {
            Job again = save(s, j.requeued(reason, s.now()), JobService.STATUS_EVENT_TYPE);
            assignWaitingClaims(s, j.queue());
            return current.get(again.id());
        }
        String why = retry ? reason + " (after " + j.attempt() + " of " + maxAttempts + " attempts)" : reason;
        return save(s, j.failed(why, s.now()), JobService.STATUS_EVENT_TYPE);
    }

    /** Claims up to {@code max} of the queue's oldest queued jobs, oldest first; none when none is queued. */
    private List<Claimed> claimOldest(Transaction.Stage s, String queue, int max, long leaseMillis) {
        List<Claimed> claimed = new ArrayList<>();
        for (String id; claimed.size() < max && (id = oldestQueued(queue)) != null; ) {
            byte[] payload = forgetQueuedPayload(id);
            if (payload == null) {
                payload = s.record(JobKeys.payload(id));
            }
            if (payload == null) {
                throw new IllegalStateException("payload of job " + id + " is missing");
            }
            Job j = save(s, current.get(id).claimed(newToken(), s.now(), leaseMillis), JobService.STATUS_EVENT_TYPE);
            claimed.add(new Claimed(j, payload));
        }
        return claimed;
    }

    /** Hands what is queued to the held claims, oldest claim first, each taking up to its {@code max}. */
    private void assignWaitingClaims(Transaction.Stage s, String queue) {
        ArrayDeque<ClaimWaiter> waiting = waitingClaims.get(queue);
        while (waiting != null && !waiting.isEmpty() && oldestQueued(queue) != null) {
            ClaimWaiter w = waiting.poll();
            if (w.take()) {
                List<Claimed> claimed = claimOldest(s, queue, w.max, w.leaseMillis);
                pendingChange.afterCommit(() -> w.result.complete(claimed));
                pendingChange.afterFailure(e -> w.result.completeExceptionally(e));
            }
        }
    }

    private String oldestQueued(String queue) {
        TreeMap<Long, String> q = queued.get(queue);
        return q == null || q.isEmpty() ? null : q.firstEntry().getValue();
    }

    /**
     * Stages the job's record and its event, which goes to the job's topic once that is written and is kept in the
     * record until then; either way the event's offset on the topic is the job's version.
     */
    private Job save(Transaction.Stage s, Job changed, String eventType) {
        byte[] event = JobJson.encodePublic(changed); // its events so far are the state before
        Job j = changed;
        if (j.unwritten() != null) {
            j = j.withUnwritten(new JobEvent(eventType, s.now(), event));
        } else {
            checkOffset(j.id(), j.version(), s.append(JobKeys.topic(j.id()), eventType, event));
        }
        s.putRecord(JobKeys.job(j.id()), JobJson.record(j));
        Job before = current.put(j.id(), j);
        if (before != null && before.status() == JobStatus.QUEUED && j.status() != JobStatus.QUEUED) {
            TreeMap<Long, String> q = queued.get(j.queue());
            if (q != null) {
                q.remove(j.seq());
            }
            forgetQueuedPayload(j.id());
        }
        if (j.status() == JobStatus.QUEUED) {
            enqueue(j);
        }
        if (j.idempotencyKey() != null) {
            idsByKey.put(keyOf(j.queue(), j.idempotencyKey()), j.id());
        }
        pendingChange.changed.add(j);
        return j;
    }

    private byte[] forgetQueuedPayload(String id) {
        byte[] payload = queuedPayloads.remove(id);
        if (payload != null) {
            queuedPayloadBytes -= payload.length;
        }
        return payload;
    }

    private void enqueue(Job j) {
        queued.computeIfAbsent(j.queue(), k -> new TreeMap<>()).put(j.seq(), j.id());
    }

    private QueueSettings settingsOf(String queue) {
        return settings.getOrDefault(queue, QueueSettings.DEFAULTS);
    }

    private static void checkOffset(String id, long version, Message event) {
        if (event.offset() != version) {
            log.error("job {} version {} disagrees with its event offset {}", id, version, event.offset());
        }
    }

    /** Idempotency keys are per queue. */
    private static String keyOf(String queue, String idempotencyKey) {
        return queue + "\u0000" + idempotencyKey;
    }

    /** On start and after a failed commit: the writer's maps go back to what is in the log (what readers see). */
    private void rebuild() {
        current.clear();
        queued.clear();
        idsByKey.clear();
        queuedPayloads.clear();
        queuedPayloadBytes = 0;
        current.putAll(visible);
        for (Job j : visible.values()) {
            if (j.status() == JobStatus.QUEUED) {
                enqueue(j);
            }
            if (j.idempotencyKey() != null) {
                idsByKey.put(keyOf(j.queue(), j.idempotencyKey()), j.id());
            }
        }
        settings.clear();
        settings.putAll(visibleSettings);
    }

    private String newToken() {
        byte[] b = new byte[18];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    // ---- transactions ----

    private <T> CompletableFuture<T> run(Change<T> change) {
        broker.submit(change);
        return change.done;
    }

    /** One job change: staged on the writer thread, made visible after the commit. */
    private abstract class Change<T> implements Transaction {
        final CompletableFuture<T> done = new CompletableFuture<>();
        final List<Job> changed = new ArrayList<>();
        private final List<Runnable> afterCommit = new ArrayList<>();
        private final List<Consumer<ApiException>> afterFailure = new ArrayList<>();
        private T value;

        abstract T apply(Transaction.Stage s);

        void afterCommit(Runnable r) {
            afterCommit.add(r);
        }

        void afterFailure(Consumer<ApiException> r) {
            afterFailure.add(r);
        }

        @Override
        public final void stage(Transaction.Stage s) {
            pendingChange = this;
            try {
                value = apply(s);
            } finally {
                pendingChange = null;
            }
        }

        /** Readers see a job's new state before the event announcing it, so a follower woken by it finds it. */
        @Override
        public final void durable() {
            for (Job j : changed) {
                visible.put(j.id(), j);
                trackRunning(j);
            }
        }

        /** Its events are readable now: whoever waits for one of its jobs has it, with no look of its own. */
        @Override
        public final void committed() {
            afterCommit.forEach(Runnable::run);
            for (Job j : changed) {
                followers.changed(j.id(), j);
            }
            done.complete(value);
        }

        @Override
        public final void failed(ApiException error) {
            if (!changed.isEmpty()) {
                rebuild();
            }
            afterFailure.forEach(f -> f.accept(error));
            done.completeExceptionally(error);
        }
    }

    /** A held claim. Either the writer hands it jobs or its wait ends; {@link #take()} decides which, once. */
    private static final class ClaimWaiter {
        final int max;
        final long leaseMillis;
        final CompletableFuture<List<Claimed>> result;
        private final AtomicBoolean taken = new AtomicBoolean();

        ClaimWaiter(int max, long leaseMillis, CompletableFuture<List<Claimed>> result) {
            this.max = max;
            this.leaseMillis = leaseMillis;
            this.result = result;
        }

        boolean take() {
            return !result.isDone() && taken.compareAndSet(false, true);
        }
    }
}
