package dev.switchboard.groups;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Where groups live in the engine: a record per group holding the next offset never handed out, and a record per
 * lease. A group's committed offset is not stored: it is its lowest leased offset, or the next one when none is, so an
 * ack only deletes a lease record. Topic and group names have no {@code /}, so the keys parse back unambiguously.
 */
final class GroupKeys {
    static final String PREFIX = "g/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private GroupKeys() {}

    static String group(String topic, String group) {
        return PREFIX + topic + "/" + group;
    }

    static String lease(String topic, String group, long offset) {
        return group(topic, group) + "/" + offset;
    }

    /** A stored key's parts: topic, group, and the leased offset (or -1 for the group record). */
    record Parsed(String topic, String group, long offset) {}

    static Parsed parse(String key) {
        String[] parts = key.substring(PREFIX.length()).split("/");
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("not a group key: " + key);
        }
        return new Parsed(parts[0], parts[1], parts.length == 3 ? Long.parseLong(parts[2]) : -1);
    }

    static byte[] next(long next) {
        return Long.toString(next).getBytes(StandardCharsets.US_ASCII);
    }

    static long next(byte[] record) {
        return Long.parseLong(new String(record, StandardCharsets.US_ASCII));
    }

    static byte[] lease(Lease lease) {
        try {
            return JSON.writeValueAsBytes(JSON.createObjectNode().put("member", lease.member())
                    .put("expires", lease.expires()).put("deliveries", lease.deliveries()));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Lease lease(byte[] record) {
        try {
            JsonNode n = JSON.readTree(record);
            return new Lease(n.path("member").asText(null), n.path("expires").asLong(), n.path("deliveries").asInt());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
