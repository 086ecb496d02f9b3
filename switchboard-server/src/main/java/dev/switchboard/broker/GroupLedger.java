package dev.switchboard.broker;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Consumer groups kept by an engine whose nodes share them ({@link Broker#groupLedger}): every operation is atomic
 * in the engine and judged by the engine's clock, so each message is leased to one member at a time across every
 * node, and a lease expires once for all of them whichever node looks. An engine of one node offers none; groups
 * then live in the node's memory, stored through its transactions ({@code dev.switchboard.groups}).
 *
 * <p>Every operation first gives back the leases that are due, and its answer carries the {@link Upkeep} that
 * follows: messages out of deliveries for the caller to move to the dead-letter topic ({@link #bury}), when the next
 * lease falls due, and whether messages went back to the group. Refusals (no such topic or group, a limit) fail the
 * future with their {@code ApiException} and change nothing.
 */
public interface GroupLedger {
    /** The groups' rules, in milliseconds where a time. */
    record Settings(long ackTimeoutMillis, int maxDeliveries, int maxPending, int maxGroupsPerTopic) {}

    /** A message leased to a member, with how often it was delivered (1 the first time). */
    record Leased(Message message, int deliveries) {}

    /** A message delivered {@code deliveries} times, its last lease over; null when retention dropped it. */
    record Dying(long offset, int deliveries, Message message) {}

    /**
     * @param dying        messages to move to the dead-letter topic, each handed to this caller alone for an ack
     *                     timeout
     * @param dueInMillis  when the group's next lease (or dying message) falls due, or -1 when none will
     * @param freed        messages went back to the group: waiting members may have them now
     */
    record Upkeep(List<Dying> dying, long dueInMillis, boolean freed) {}

    /** @param memberFull the member held as many as it may, so nothing was leased to it */
    record Fetched(List<Leased> messages, boolean memberFull, Upkeep upkeep) {}

    /** Offsets acknowledged (or given back), and those that were not the member's. */
    record Acked(List<Long> done, List<Long> stale, Upkeep upkeep) {}

    record Status(long committed, long lag, int inFlight, int members, Upkeep upkeep) {}

    /**
     * Leases to {@code member} up to {@code max} messages no member holds, those to be delivered again first, then
     * new ones; at most {@code maxHeld} held by the member in all, and {@code maxBytes} of payload (at least one
     * message). Creates the group, at the topic's first retained offset, on a stored topic.
     *
     * @param refuseWhenFull whether a member that holds {@code maxHeld} already is refused ({@code 429}) rather than
     *                       answered nothing
     */
    CompletableFuture<Fetched> fetch(String topic, String group, String member, int max, int maxHeld,
                                     boolean refuseWhenFull, long maxBytes);

    CompletableFuture<Acked> ack(String topic, String group, String member, long[] offsets);

    /** Gives leases back at once: to the next fetch, or after their last delivery to the dead-letter topic. */
    CompletableFuture<Acked> release(String topic, String group, String member, long[] offsets);

    /** Gives back every lease the member holds. */
    CompletableFuture<Acked> leave(String topic, String group, String member);

    CompletableFuture<Status> status(String topic, String group);

    /** Gives back the leases due; completes with null when there is no such group (any more). */
    CompletableFuture<Upkeep> expire(String topic, String group);

    /**
     * Appends {@code deadLetter} to the dead-letter topic and removes the message's lease, atomically, if it is still
     * dying with {@code deliveries}; a null letter only removes the lease (the message is gone). Completes with
     * whether a letter was appended.
     */
    CompletableFuture<Boolean> bury(String topic, String group, long offset, int deliveries, byte[] deadLetter);

    /**
     * Calls {@code wake} whenever messages go back to one of the topic's groups on any node (a release, an expiry, an
     * ack that let the group hand out more), from the engine's threads: it must not block. Cancel when done.
     */
    Broker.Watch wakeUps(String topic, Runnable wake);
}
