package dev.switchboard.engine.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where the engine keeps things in Redis; the Lua scripts (common.lua) spell the same names. Every key of a topic
 * has the topic's name as its hash tag ({@code {topic}}: topic names cannot hold braces), so that all of a topic is
 * in one hash slot; records share the tag {@code {:r}} (no topic's: topic names cannot hold ':'). The registry and
 * the set of aged topics are keys of their own, which no script touches (a script stays in one slot).
 */
record RedisKeys(String prefix) {
    /** A job's topic: {@code _jobs.} and the job's id, whose last four characters are its queue's slot tag. */
    private static final Pattern JOB_TOPIC = Pattern.compile("_jobs\\.[a-z2-7]{24}");

    /**
     * What a topic's keys start with: {@code <prefix>{topic}}, or for a job's topic {@code <prefix>{tag}_jobs.<id>}
     * with the tag its id ends with ({@link RedisSlotTags}), so that a job's topic is in its queue's slot.
     */
    private String topicKey(String topic) {
        return JOB_TOPIC.matcher(topic).matches()
                ? prefix + "{" + topic.substring(topic.length() - RedisSlotTags.LENGTH) + "}" + topic
                : prefix + "{" + topic + "}";
    }

    /** A topic's positions and settings (a hash: epoch, first, last, bytes, created, rmax, rage, rbytes). */
    String meta(String topic) {
        return topicKey(topic) + ":m";
    }

    /** A topic's messages: a stream whose entry ids are the offsets ({@code <offset>-0}). */
    String stream(String topic) {
        return topicKey(topic) + ":s";
    }

    /** The sharded pub/sub channel that announces a topic's changes. */
    String channel(String topic) {
        return topicKey(topic) + ":c";
    }

    /** The topic a {@link #channel} announces. */
    String topicOf(String channel) {
        String key = channel.substring(prefix.length(), channel.length() - ":c".length());
        int tagEnd = key.indexOf('}');
        return tagEnd == key.length() - 1 ? key.substring(1, tagEnd) : key.substring(tagEnd + 1);
    }

    /** The index of the jobs in a slot, by the slot's tag: the key a job operation is routed by. */
    String jobs(String slotTag) {
        return prefix + "{" + slotTag + "}:jobs";
    }

    /** The tags of the slots that hold job queues, which the nodes' timers visit. */
    String jobSlots() {
        return prefix + "jobslots";
    }

    /**
     * The (unsharded) pub/sub channel that announces each topic created, by name: creations span every slot, so
     * they cannot go on a topic's sharded channel.
     */
    String creations() {
        return prefix + "created";
    }

    /** Every topic's name, in a sorted set. */
    String registry() {
        return prefix + "topics";
    }

    /** Topics with a maximum age, which the nodes' timers visit. */
    String aged() {
        return prefix + "aged";
    }

    String record(String key) {
        return prefix + RECORDS_TAG + ":r:" + key;
    }

    /** Every record's key, in a sorted set (prefix queries by lexical range), in the records' slot. */
    String records() {
        return prefix + RECORDS_TAG + ":records";
    }

    private static final String RECORDS_TAG = "{:r}";

    /** Which node has members of which NATS queue group (RedisLive): a hash in the live slot. */
    String liveGroups() {
        return prefix + LIVE_TAG + ":groups";
    }

    /** The sharded channel live messages travel on, in the same slot as {@link #liveGroups}. */
    String liveChannel() {
        return prefix + LIVE_TAG + ":c";
    }

    /** No topic's tag (topic names cannot hold ':'), so topic "live"'s channel is another. */
    private static final String LIVE_TAG = "{:live}";

    /** Script arguments: bytes as they are, anything else as its decimal or text form. */
    static List<byte[]> args(Object... values) {
        List<byte[]> args = new ArrayList<>(values.length);
        for (Object v : values) {
            args.add(v instanceof byte[] b ? b : String.valueOf(v).getBytes(StandardCharsets.UTF_8));
        }
        return args;
    }
}
