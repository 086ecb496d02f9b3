package dev.switchboard.cli;

import java.io.IOException;
import java.util.List;

/**
 * A subscription over several nodes of one cluster (docs/cluster.md): streams from one node, and when its
 * connection ends moves to the next, so that a dead node's subscriber resumes on another. Offsets are the same on
 * every node, so the loop resumes from the same position whichever node answers.
 */
final class FailoverTransport implements SubscriberLoop.Transport {
    private final List<SubscriberLoop.Transport> nodes;
    private int current;

    FailoverTransport(List<SubscriberLoop.Transport> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    @Override
    public void stream(SubscriberLoop loop) throws IOException, InterruptedException {
        try {
            nodes.get(current).stream(loop);
        } catch (IOException e) {
            current = (current + 1) % nodes.size();
            throw e;
        }
    }
}
