package dev.switchboard.client;

import java.time.Duration;
import java.util.List;

/**
 * One member of a consumer group on a topic, over HTTP, made by {@link Switchboard#groupMember}: the members of a
 * group share the topic's messages, each leased to one member at a time until that member acknowledges it
 * (docs/groups.md). The member's name is how the server knows which leases are its own, across connections.
 */
public interface GroupMember {
    String topic();

    String group();

    String member();

    /**
     * Up to {@code max} (1-1000) messages no other member holds, leased to this one; when there are none, waits up to
     * {@code wait} (0 to 5 min) for some. Empty when none came. Throws {@link LimitExceededException} when this member
     * already holds as many unacknowledged messages as the server allows.
     */
    List<GroupMessage> fetch(int max, Duration wait);

    /** Marks messages done; answers the offsets that were this member's to acknowledge (a lost lease is not). */
    List<Long> ack(long... offsets);

    /**
     * Gives messages back unprocessed: the group hands them out again at once (their delivery counted, so one given
     * back too often goes to the dead-letter topic). Answers the offsets that were this member's to give back.
     */
    List<Long> release(long... offsets);

    /** The group's position and counts; {@link NotFoundException} for a group nobody fetched from yet. */
    GroupStatus status();
}
