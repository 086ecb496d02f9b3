package dev.switchboard.groups;

import dev.switchboard.config.GroupSettings;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.util.regex.Pattern;

/** What the group calls accept, checked on the caller's thread before anything changes. */
final class GroupRules {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private final GroupSettings settings;

    GroupRules(GroupSettings settings) {
        this.settings = settings;
    }

    void checkTopic(String topic) {
        TopicNames.validate(topic);
        if (topic.length() > TopicNames.MAX_LENGTH - GroupService.DEAD_SUFFIX.length()) {
            throw new ApiException(ErrorCode.INVALID_TOPIC, "a topic with groups has at most "
                    + (TopicNames.MAX_LENGTH - GroupService.DEAD_SUFFIX.length())
                    + " chars, so that its dead-letter topic '{topic}" + GroupService.DEAD_SUFFIX + "' has a name");
        }
    }

    static void checkGroup(String group) {
        if (group == null || !NAME.matcher(group).matches()) {
            throw new ApiException(ErrorCode.INVALID_GROUP, "a group name is 1-64 chars of [A-Za-z0-9_.-], got '"
                    + TopicNames.abbreviate(group) + "'");
        }
    }

    static void checkMember(String member) {
        if (member == null || !NAME.matcher(member).matches()) {
            throw new ApiException(ErrorCode.INVALID_GROUP, "a member name is 1-64 chars of [A-Za-z0-9_.-], got '"
                    + TopicNames.abbreviate(member) + "'");
        }
    }

    void checkFetch(String topic, String group, String member, int max) {
        checkTopic(topic);
        checkGroup(group);
        checkMember(member);
        if (max < 1 || max > settings.maxFetch()) {
            throw new ApiException(ErrorCode.INVALID_LIMIT, "max must be 1-" + settings.maxFetch() + ", got " + max);
        }
    }

    void checkAck(String topic, String group, String member, long[] offsets) {
        checkTopic(topic);
        checkGroup(group);
        checkMember(member);
        if (offsets.length == 0) {
            throw new ApiException(ErrorCode.INVALID_JSON, "offsets must name at least one offset");
        }
        if (offsets.length > settings.maxAckOffsets()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "at most " + settings.maxAckOffsets()
                    + " offsets per ack, got " + offsets.length);
        }
        for (long o : offsets) {
            if (o < 1) {
                throw new ApiException(ErrorCode.INVALID_JSON, "offsets are whole numbers from 1, got " + o);
            }
        }
    }

    void checkPush(String topic, String group, int maxInFlight) {
        checkTopic(topic);
        checkGroup(group);
        if (maxInFlight < 1 || maxInFlight > settings.maxInFlightPerMember()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "maxInFlight must be 1-"
                    + settings.maxInFlightPerMember() + ", got " + maxInFlight);
        }
    }
}
