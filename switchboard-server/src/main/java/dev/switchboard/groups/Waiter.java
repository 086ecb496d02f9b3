package dev.switchboard.groups;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A member waiting for messages: a held fetch (once) or a push member (until it leaves). */
interface Waiter {
    String member();

    /** How many messages it takes now, given what it holds; 0 when none. */
    int wants(int held);

    /** The most it may hold unacknowledged. */
    int maxHeld();

    boolean gone();

    void deliver(List<GroupService.Delivered> messages);

    void failed(Throwable error);

    /** Whether it waits for more after a delivery. */
    boolean stays();

    /** A held {@code fetch}: served once. */
    final class Fetch implements Waiter {
        private final String member;
        private final int max;
        private final int maxInFlight;
        private final CompletableFuture<List<GroupService.Delivered>> result;
        /** Messages were leased to it and are on their way. */
        boolean serving;

        Fetch(String member, int max, int maxInFlight, CompletableFuture<List<GroupService.Delivered>> result) {
            this.member = member;
            this.max = max;
            this.maxInFlight = maxInFlight;
            this.result = result;
        }

        @Override
        public String member() {
            return member;
        }

        @Override
        public int wants(int held) {
            return Math.min(max, maxInFlight - held);
        }

        @Override
        public int maxHeld() {
            return maxInFlight;
        }

        @Override
        public boolean gone() {
            return result.isDone();
        }

        @Override
        public void deliver(List<GroupService.Delivered> messages) {
            result.complete(messages);
        }

        @Override
        public void failed(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public boolean stays() {
            return false;
        }
    }

    /** A push member: holds up to {@code maxInFlight} messages, served again whenever it has room. */
    final class Push implements Waiter {
        private static final Logger LOG = LoggerFactory.getLogger(Push.class);

        private final String member;
        private final int maxInFlight;
        private final GroupService.Receiver receiver;
        boolean left;

        Push(String member, int maxInFlight, GroupService.Receiver receiver) {
            this.member = member;
            this.maxInFlight = maxInFlight;
            this.receiver = receiver;
        }

        @Override
        public String member() {
            return member;
        }

        @Override
        public int wants(int held) {
            return maxInFlight - held;
        }

        @Override
        public int maxHeld() {
            return maxInFlight;
        }

        @Override
        public boolean gone() {
            return left;
        }

        @Override
        public void deliver(List<GroupService.Delivered> messages) {
            if (!messages.isEmpty()) {
                receiver.receive(messages);
            }
        }

        @Override
        public void failed(Throwable error) {
            LOG.debug("push to group member {} failed, offered again later: {}", member, error.getMessage());
        }

        @Override
        public boolean stays() {
            return true;
        }
    }
}
