package dev.switchboard.config;

import java.time.Duration;

/**
 * Consumer groups (docs/groups.md): how long a fetched message stays leased, how often it is delivered before it goes
 * to the dead-letter topic, and the limits on groups and their members.
 *
 * @param ackTimeout           a fetched message not acknowledged within this is delivered again
 * @param maxDeliveries        deliveries of one message before it is moved to {@code {topic}.dead} and counted done
 * @param maxGroupsPerTopic    groups one topic may have (429 beyond)
 * @param maxInFlightPerMember unacknowledged messages one member may hold (429 when a fetch finds it full)
 * @param maxFetch             largest {@code max=} of a fetch
 * @param maxAckOffsets        most offsets in one ack
 * @param maxPending           how far past the committed offset a group hands out messages: every offset in that
 *                             window that is done is remembered until the committed offset passes it, so a message
 *                             that keeps failing cannot let that memory grow without bound
 */
public record GroupSettings(Duration ackTimeout, int maxDeliveries, int maxGroupsPerTopic, int maxInFlightPerMember,
                            int maxFetch, int maxAckOffsets, int maxPending) {
    public static final GroupSettings DEFAULTS = new GroupSettings(Duration.ofSeconds(30), 5, 64, 1000, 1000, 1000,
            10_000);

    public GroupSettings {
        if (ackTimeout.isNegative() || ackTimeout.isZero() || maxDeliveries < 1 || maxGroupsPerTopic < 1
                || maxInFlightPerMember < 1 || maxFetch < 1 || maxAckOffsets < 1 || maxPending < 1) {
            throw new IllegalArgumentException("group settings must be positive: " + this);
        }
    }

    public GroupSettings withDelivery(Duration timeout, int deliveries) {
        return new GroupSettings(timeout, deliveries, maxGroupsPerTopic, maxInFlightPerMember, maxFetch,
                maxAckOffsets, maxPending);
    }

    public GroupSettings withMaxInFlightPerMember(int inFlight) {
        return new GroupSettings(ackTimeout, maxDeliveries, maxGroupsPerTopic, inFlight, maxFetch, maxAckOffsets,
                maxPending);
    }
}
