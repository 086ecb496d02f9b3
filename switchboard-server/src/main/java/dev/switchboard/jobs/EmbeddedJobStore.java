package dev.switchboard.jobs;

import dev.switchboard.broker.Broker;
import dev.switchboard.jobs.JobService.Claimed;
import dev.switchboard.jobs.JobService.QueueInfo;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs on an engine of one node: each change is one transaction that writes the job's record and appends its event
 * ({@link JobStateMachine}, on the engine's writer thread), and reads are answered at once from the visible state
 * kept here, which the writer replaces after each commit, and whoever waits for a job is handed it by the commit
 * that changed it ({@link JobFollowers}). A job's events stay in its record until its topic is read
 * ({@link JobTopics}). {@link JobTimers} expires leases and finished jobs.
 */
final class EmbeddedJobStore implements JobStore {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedJobStore.class);

    private final Broker broker;
    private final JobStateMachine machine;
    private final JobTimers timers;
    private final JobFollowers followers = new JobFollowers();

    // What readers see: read by any thread, replaced by the writer after each commit.
    private final ConcurrentHashMap<String, Job> visible = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, QueueSettings> visibleSettings = new ConcurrentHashMap<>();

    EmbeddedJobStore(Broker broker, JobRules rules) {
        this.broker = broker;
        for (Broker.Record r : broker.recordsWithPrefix(JobKeys.QUEUES)) {
            visibleSettings.put(JobKeys.queueOf(r.key()), JobJson.settingsFromRecord(r.value()));
        }
        for (Broker.Record r : broker.recordsWithPrefix(JobKeys.JOBS)) {
            Job j = JobJson.fromRecord(r.value());
            visible.put(j.id(), j);
        }
        machine = new JobStateMachine(broker, rules, visible, visibleSettings, followers);
        timers = new JobTimers(machine, visible, visibleSettings);
        log.info("jobs: {} retained, {} queues configured", visible.size(), visibleSettings.size());
    }

    @Override
    public CompletableFuture<Job> find(String id) {
        return CompletableFuture.completedFuture(visible.get(id));
    }

    @Override
    public Runnable follow(String id, Consumer<Job> changed) {
        return followers.add(id, changed);
    }

    @Override
    public CompletableFuture<Void> writeOut(String id) {
        Job j = visible.get(id);
        return j == null || j.unwritten() == null ? CompletableFuture.completedFuture(null) : machine.writeOut(id);
    }

    @Override
    public CompletableFuture<byte[]> storedResult(String id) {
        return broker.record(JobKeys.result(id));
    }

    @Override
    public CompletableFuture<QueueInfo> queue(String queue) {
        Map<JobStatus, Integer> counts = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) {
            counts.put(s, 0);
        }
        boolean known = visibleSettings.containsKey(queue);
        for (Job j : visible.values()) {
            if (j.queue().equals(queue)) {
                counts.merge(j.status(), 1, Integer::sum);
                known = true;
            }
        }
        return CompletableFuture.completedFuture(known
                ? new QueueInfo(queue, visibleSettings.getOrDefault(queue, QueueSettings.DEFAULTS), counts) : null);
    }

    @Override
    public CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key) {
        return machine.submit(queue, type, payload, key);
    }

    @Override
    public CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Duration lease,
                                                  ScheduledExecutorService timer) {
        return machine.claim(queue, max, wait, lease, timer);
    }

    @Override
    public CompletableFuture<Job> progress(String id, String token, Integer percent, String message) {
        return machine.progress(id, token, percent, message);
    }

    @Override
    public CompletableFuture<Job> heartbeat(String id, String token) {
        return machine.heartbeat(id, token);
    }

    @Override
    public CompletableFuture<Job> complete(String id, String token, String type, byte[] result) {
        return machine.complete(id, token, type, result);
    }

    @Override
    public CompletableFuture<Job> fail(String id, String token, String reason, boolean retry) {
        return machine.fail(id, token, reason, retry);
    }

    @Override
    public CompletableFuture<Job> cancel(String id) {
        return machine.cancel(id);
    }

    @Override
    public CompletableFuture<Void> configure(String queue, QueueSettings settings) {
        return machine.configure(queue, settings);
    }

    @Override
    public void close() {
        timers.close();
    }
}
