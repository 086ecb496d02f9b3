package dev.switchboard.client;

import java.util.List;

/**
 * The answer to a {@link Switchboard#fetch fetch} or {@link Switchboard#poll poll}: messages in offset order, the
 * {@code from} of the next call, and whether retention dropped messages between the requested start and the first
 * one returned.
 *
 * @param messages in offset order, possibly empty
 * @param next where the next read starts
 * @param gap true when offsets at or after the requested start, before the first returned, were dropped
 */
public record Page(List<Message> messages, long next, boolean gap) {
    public Page {
        messages = List.copyOf(messages);
    }
}
