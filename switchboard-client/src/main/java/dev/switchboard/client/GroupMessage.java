package dev.switchboard.client;

/**
 * A message fetched by a member of a consumer group, leased to it until it acknowledges it or the server's ack
 * timeout passes.
 *
 * @param message    the topic's message
 * @param deliveries how often it has been handed out, this time included (above 1: an earlier member did not
 *                   acknowledge it in time)
 */
public record GroupMessage(Message message, int deliveries) {}
