package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import java.util.List;
import java.util.SortedMap;

/**
 * The answer to a poll over many topics ({@link Delivery#pollMany}).
 *
 * @param messages oldest first across topics, each topic's in offset order
 * @param next     each topic's next offset: the stream's cursor after this answer
 * @param gaps     topics whose retention dropped offsets before this reader got them
 */
public record ManyTopicsAnswer(List<Message> messages, SortedMap<String, Long> next, List<Gap> gaps) {
    /** Offsets {@code [from, first)} of {@code topic} were dropped by retention before this reader got them. */
    public record Gap(String topic, long from, long first) {}
}
