package dev.switchboard.jobs;

import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.GroupLedger;
import dev.switchboard.broker.JobLedger;
import dev.switchboard.broker.LiveExchange;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.Transaction;
import dev.switchboard.broker.TopicWatcher;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The engine as readers see it: a job's topic {@code _jobs.<id>} is written out ({@link JobStore#writeOut}) before
 * anyone reads it, so the common job, followed by nobody but its submitter, never writes one (docs/architecture.md,
 * "Jobs without a stored topic per job"). A write-out that fails fails the read that asked for it. Every other call,
 * and every other topic, goes to the engine as it is.
 */
final class JobTopics implements Broker {
    private static final String PREFIX = JobKeys.topic("");

    private final Broker engine;
    private final Function<String, CompletableFuture<Void>> writeOut;

    JobTopics(Broker engine, Function<String, CompletableFuture<Void>> writeOut) {
        this.engine = engine;
        this.writeOut = writeOut;
    }

    @Override
    public CompletableFuture<Void> whenReadable(String topic) {
        return topic.startsWith(PREFIX) ? writeOut.apply(topic.substring(PREFIX.length()))
                : engine.whenReadable(topic);
    }

    @Override
    public CompletableFuture<List<Message>> read(String topic, long from, int maxCount, long maxBytes) {
        return whenReadable(topic).thenCompose(v -> engine.read(topic, from, maxCount, maxBytes));
    }

    @Override
    public CompletableFuture<Optional<TopicState>> stateAsync(String topic) {
        return whenReadable(topic).thenCompose(v -> engine.stateAsync(topic));
    }

    // ---- the engine's as they are ----

    /**
     * From now on, as for any topic: a watch does not write the topic out. Readers wait for {@link #whenReadable}
     * first ({@code fanout.Delivery.attachAsync} does), which is where a write-out that fails is reported; a write-out
     * started here could only fail unseen, leaving the watcher waiting for events kept in the job's record.
     */
    @Override
    public Watch watch(String topic, TopicWatcher watcher) {
        return engine.watch(topic, watcher);
    }

    @Override
    public Optional<TopicState> state(String topic) {
        return engine.state(topic);
    }

    @Override
    public CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                                   Map<String, List<String>> headers, String idempotencyKey) {
        return engine.append(topic, type, payload, headers, idempotencyKey);
    }

    @Override
    public CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                                      Map<String, List<String>> headers, String idempotencyKey) {
        return engine.appendBatch(topic, type, payloads, headers, idempotencyKey);
    }

    @Override
    public void submit(Transaction transaction) {
        engine.submit(transaction);
    }

    @Override
    public List<TopicState> topics() {
        return engine.topics();
    }

    @Override
    public CompletableFuture<List<TopicState>> topicsAsync() {
        return engine.topicsAsync();
    }

    @Override
    public int topicCount() {
        return engine.topicCount();
    }

    @Override
    public Watch watchCreations(Consumer<String> listener) {
        return engine.watchCreations(listener);
    }

    @Override
    public CompletableFuture<TopicState> setRetention(String topic, Retention retention) {
        return engine.setRetention(topic, retention);
    }

    @Override
    public CompletableFuture<Boolean> delete(String topic) {
        return engine.delete(topic);
    }

    @Override
    public CompletableFuture<byte[]> record(String key) {
        return engine.record(key);
    }

    @Override
    public List<Record> recordsWithPrefix(String prefix) {
        return engine.recordsWithPrefix(prefix);
    }

    @Override
    public Optional<String> unhealthy() {
        return engine.unhealthy();
    }

    @Override
    public boolean shared() {
        return engine.shared();
    }

    @Override
    public Map<String, Object> health() {
        return engine.health();
    }

    @Override
    public Optional<JobLedger> jobLedger(JobLedger.Settings defaults) {
        return engine.jobLedger(defaults);
    }

    @Override
    public Optional<GroupLedger> groupLedger(GroupLedger.Settings settings) {
        return engine.groupLedger(settings);
    }

    @Override
    public Optional<LiveExchange> liveExchange(Consumer<LiveExchange.Heard> receiver) {
        return engine.liveExchange(receiver);
    }

    @Override
    public void close() {
        engine.close();
    }
}
