package dev.switchboard.client;

/**
 * A consumer group's position, as {@code GET /v1/topics/{topic}/groups/{group}} answers it.
 *
 * @param committed the lowest offset not yet acknowledged: everything before it is done
 * @param lag       messages not yet acknowledged (leased, waiting for redelivery, or not yet handed out)
 * @param inFlight  messages leased to members now
 * @param members   members holding leases, waiting, or seen within the ack timeout
 */
public record GroupStatus(long committed, long lag, int inFlight, int members) {}
