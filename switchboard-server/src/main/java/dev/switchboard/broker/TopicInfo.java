package dev.switchboard.broker;

import java.util.Map;

/** A topic as {@code GET /v1/topics/{topic}} describes it. {@code firstOffset > lastOffset} when nothing is retained. */
public record TopicInfo(String name, long firstOffset, long lastOffset, long messages, long bytes, long created,
                        Retention retention, Map<String, Integer> subscribers) {}
