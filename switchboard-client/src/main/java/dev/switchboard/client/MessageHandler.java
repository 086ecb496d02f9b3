package dev.switchboard.client;

/**
 * Receives a subscription's messages, one at a time, in offset order, each exactly once. Runs on the subscription's
 * own delivery thread: while it runs, the subscription buffers at most its buffer size and then stops reading, so a
 * slow handler slows the stream instead of filling memory. An exception it throws ends the subscription (see
 * {@link Subscription#closed()}).
 */
@FunctionalInterface
public interface MessageHandler {
    void onMessage(Message message) throws Exception;
}
