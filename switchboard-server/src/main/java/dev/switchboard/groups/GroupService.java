package dev.switchboard.groups;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.GroupLedger;
import dev.switchboard.broker.Message;
import dev.switchboard.config.GroupSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Consumer groups (docs/groups.md): the members of a group share a topic, each message leased to one member until
 * it acknowledges it. Delivery is at least once: a message whose lease expires, or whose member's connection closes,
 * is delivered again, with its delivery count; after {@link GroupSettings#maxDeliveries()} it is appended to
 * {@code {topic}.dead} instead, as a JSON envelope that names where it came from ({@link DeadLetter}).
 *
 * <p>Input is checked here, on the caller's thread; the groups themselves live behind one seam, {@link Groups}: in
 * this node's memory on an engine of one node ({@link LocalGroups}), or in the engine when its nodes share it
 * ({@link SharedGroups}, over the engine's {@link GroupLedger}), so members of one group on several nodes share it.
 */
public final class GroupService implements AutoCloseable {
    public static final String DEAD_SUFFIX = ".dead";

    /** A message as a member gets it, with how often it was delivered (1 the first time). */
    public record Delivered(Message message, int deliveries) {}

    /**
     * Which offsets of an ack (or a release) were the member's to acknowledge (release), and which were not: not
     * leased to it (any more), or done.
     */
    public record Acked(List<Long> acked, List<Long> stale) {}

    /** A group as {@code GET /v1/topics/{t}/groups/{g}} shows it. */
    public record Status(String topic, String group, long committed, long lag, int inFlight, int members) {}

    /**
     * A member that takes messages as they come (a WebSocket subscription) instead of fetching: it is handed up to
     * {@code maxInFlight} messages and more as it acknowledges. {@link #receive} runs on the groups' thread.
     */
    public interface Receiver {
        void receive(List<Delivered> messages);
    }

    /** A push member's registration; closing it gives its leases back at once. */
    public interface Membership extends AutoCloseable {
        @Override
        void close();
    }

    /** Where the groups live; called with input already checked. */
    interface Groups extends AutoCloseable {
        CompletableFuture<List<Delivered>> fetch(String topic, String group, String member, int max, Duration wait);

        CompletableFuture<Acked> ack(String topic, String group, String member, long[] offsets);

        CompletableFuture<Acked> release(String topic, String group, String member, long[] offsets);

        CompletableFuture<Membership> join(String topic, String group, String member, int maxInFlight,
                                           Receiver receiver);

        CompletableFuture<Status> status(String topic, String group);

        @Override
        void close();
    }

    private final GroupRules rules;
    private final Broker broker;
    private final Groups groups;

    /**
     * Reads the stored groups back (blocking, at start-up, on an engine of one node) and starts the groups' thread.
     * A new group starts at its topic's first stored offset, so fetch and join wait for the topic to be readable
     * first ({@link Broker#whenReadable}: a job's topic is written out when first read).
     *
     * @param maxFetchBytes payload bytes one fetch or push answers at most (at least one message)
     * @param metrics       where each group's meters go ({@link GroupMeters})
     */
    public GroupService(Broker broker, GroupSettings settings, long maxFetchBytes, MeterRegistry metrics) {
        this.rules = new GroupRules(settings);
        this.broker = broker;
        GroupLedger.Settings shared = new GroupLedger.Settings(settings.ackTimeout().toMillis(),
                settings.maxDeliveries(), settings.maxPending(), settings.maxGroupsPerTopic());
        this.groups = broker.groupLedger(shared).<Groups>map(
                        ledger -> new SharedGroups(broker, ledger, settings, maxFetchBytes, metrics))
                .orElseGet(() -> new LocalGroups(broker, settings, maxFetchBytes, metrics));
    }

    /**
     * Up to {@code max} messages that no other member holds, leased to {@code member}; when there are none, waits up
     * to {@code wait} for some (an empty list when none came).
     */
    public CompletableFuture<List<Delivered>> fetch(String topic, String group, String member, int max,
                                                    Duration wait) {
        rules.checkFetch(topic, group, member, max);
        return broker.whenReadable(topic).thenCompose(v -> groups.fetch(topic, group, member, max, wait));
    }

    /** Marks offsets leased to {@code member} done; the others are reported stale and change nothing. */
    public CompletableFuture<Acked> ack(String topic, String group, String member, long[] offsets) {
        rules.checkAck(topic, group, member, offsets);
        return groups.ack(topic, group, member, offsets);
    }

    /**
     * Gives offsets leased to {@code member} back at once, unprocessed (a member that failed them, or stops): they go
     * to the next fetch, their delivery counted, so a message given back too often still ends in the dead-letter
     * topic. The others are reported stale.
     */
    public CompletableFuture<Acked> release(String topic, String group, String member, long[] offsets) {
        rules.checkAck(topic, group, member, offsets);
        return groups.release(topic, group, member, offsets);
    }

    /**
     * Makes a push member of the group: {@code receiver} gets up to {@code maxInFlight} unacknowledged messages at a
     * time, more as it acknowledges. Closing the membership gives back what it holds at once.
     */
    public CompletableFuture<Membership> join(String topic, String group, String member, int maxInFlight,
                                              Receiver receiver) {
        rules.checkPush(topic, group, maxInFlight);
        GroupRules.checkMember(member);
        return broker.whenReadable(topic).thenCompose(v -> groups.join(topic, group, member, maxInFlight, receiver));
    }

    public CompletableFuture<Status> status(String topic, String group) {
        rules.checkTopic(topic);
        GroupRules.checkGroup(group);
        return groups.status(topic, group);
    }

    @Override
    public void close() {
        groups.close();
    }
}
