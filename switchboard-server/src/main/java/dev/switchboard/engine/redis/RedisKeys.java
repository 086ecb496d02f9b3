package dev.switchboard.engine.redis;

import dev.switchboard.wire.TopicNames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where the engine keeps things in Redis; the Lua scripts (common.lua) spell the same names. Every key of a topic
 * has the topic's name as its hash tag ({@code {topic}}: topic names cannot hold braces), so that all of a topic is
 * in one hash slot. Topics derived from a topic (its presence events {@code _presence.<t>}, its dead letters
 * {@code <t>.dead}) and the records that belong to it ({@code <kind>/<t>/…}: presence members, consumer groups) take
 * its tag, so that one script may change them together; other records share the tag {@code {:r}} (no topic's: topic
 * names cannot hold ':'). The registry, the set of aged topics and the set of records' tags are keys of their own,
 * which no script touches (a script stays in one slot).
 */
record RedisKeys(String prefix) {
    /** A job's topic: {@code _jobs.} and the job's id, whose last four characters are its queue's slot tag. */
    private static final Pattern JOB_TOPIC = Pattern.compile("_jobs\\.[a-z2-7]{24}");
    private static final String PRESENCE = TopicNames.PRESENCE_PREFIX;
    /** What a consumer group's dead-letter topic adds to its topic's name ({@code GroupService.DEAD_SUFFIX}). */
    private static final String DEAD = ".dead";
    /** A record key that names the topic it belongs to: {@code <kind>/<topic>/<rest>}. */
    private static final Pattern TOPIC_RECORD = Pattern.compile("[^/]*/([^/{}]+)/.*", Pattern.DOTALL);
    /** The tag of records that belong to no topic. */
    static final String OWN_RECORDS_TAG = ":r";

    /**
     * The hash tag of a topic's keys: the topic it derives from ({@code _presence.<t>}, {@code <t>.dead}, and so on
     * repeatedly), and for a job's topic the tag its id ends with ({@link RedisSlotTags}), its queue's slot.
     */
    static String tag(String topic) {
        String home = topic;
        if (home.startsWith(PRESENCE) && home.length() > PRESENCE.length()) {
            home = home.substring(PRESENCE.length());
        }
        while (home.endsWith(DEAD) && home.length() > DEAD.length()) {
            home = home.substring(0, home.length() - DEAD.length());
        }
        return JOB_TOPIC.matcher(home).matches() ? home.substring(home.length() - RedisSlotTags.LENGTH) : home;
    }

    /** The hash tag of a record: that of the topic its key names, else {@link #OWN_RECORDS_TAG}. */
    static String recordTag(String key) {
        var m = TOPIC_RECORD.matcher(key);
        return m.matches() ? tag(m.group(1)) : OWN_RECORDS_TAG;
    }

    /** What a topic's keys start with: {@code <prefix>{topic}}, or {@code <prefix>{tag}topic} when it takes another's. */
    private String topicKey(String topic) {
        String tag = tag(topic);
        return tag.equals(topic) ? prefix + "{" + topic + "}" : prefix + "{" + tag + "}" + topic;
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

    /** The sharded channel on which groups.lua announces messages given back to one of a topic's groups. */
    String groupWake(String topic) {
        return topicKey(topic) + ":gw";
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
        return prefix + "{" + recordTag(key) + "}:r:" + key;
    }

    /** The keys of the records with one tag, in a sorted set (prefix queries by lexical range), in the tag's slot. */
    String records(String tag) {
        return prefix + "{" + tag + "}:records";
    }

    /** The tags that hold records, so that a prefix query visits every slot that may hold one. */
    String recordTags() {
        return prefix + "recordtags";
    }

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
