package dev.switchboard.engine.redis;

import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;

/**
 * Short hash tags, one per Redis Cluster slot, so that a job's keys can follow its queue's slot: a job's id ends with
 * the tag of its queue's slot, and its topic and the slot's index of jobs take that tag (RedisKeys, jobs.lua). A
 * queue's own keys keep the tag {@code {q:<queue>}}. Tags are four characters of the job ids' base32 alphabet, so an
 * id keeps its form.
 */
final class RedisSlotTags {
    static final int LENGTH = 4;
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    /** One tag per slot: found once by trying tags in order (32^4 of them, about 64 per slot). */
    private static final String[] BY_SLOT = new String[SlotHash.SLOT_COUNT];

    static {
        int found = 0;
        char[] tag = new char[LENGTH];
        for (int n = 0; found < BY_SLOT.length; n++) {
            for (int i = 0, rest = n; i < LENGTH; i++, rest /= ALPHABET.length) {
                tag[i] = ALPHABET[rest % ALPHABET.length];
            }
            int slot = SlotHash.getSlot(new String(tag).getBytes(StandardCharsets.US_ASCII));
            if (BY_SLOT[slot] == null) {
                BY_SLOT[slot] = new String(tag);
                found++;
            }
        }
    }

    private RedisSlotTags() {}

    /** The tag of the slot that holds {@code queue}'s keys ({@code {q:<queue>}}). */
    static String ofQueue(String queue) {
        return BY_SLOT[SlotHash.getSlot("q:" + queue)];
    }

    /** The tag a job's id ends with (any string names a slot: one that is no job's finds nothing there). */
    static String ofJob(String id) {
        return id.length() <= LENGTH ? id : id.substring(id.length() - LENGTH);
    }

    /** {@code id} with its end replaced by the tag of {@code queue}'s slot. */
    static String jobId(String id, String queue) {
        return id.substring(0, id.length() - LENGTH) + ofQueue(queue);
    }
}
