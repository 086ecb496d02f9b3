package dev.switchboard.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * The client side of one run that publishes to subscribers: where the server is, one event loop for the publishers
 * and some for the subscribers, the progress line, and closing it all in order: the run's own closes first (so
 * they are not counted as failures), then the event loops, which are waited for so that what their threads wrote
 * is visible to the report.
 */
final class ClientRun implements AutoCloseable {
    final ServerEndpoint server;
    final ProgressReporter progress;
    private final ClientIo io;
    private final EventLoopGroup publisherLoops;
    private final EventLoopGroup subscriberLoops;
    private final Measurements measurements;
    private final PublisherGroup publishers;
    private final SubscriberGroup subscribers;
    private final PrintWriter err;

    /**
     * @param name    the subscriber loops' thread name
     * @param threads the subscriber loops' threads
     * @throws UnknownHostException if the server's host does not resolve
     */
    ClientRun(URI server, ClientIo.Mode mode, String name, int threads, Measurements measurements,
              PublisherGroup publishers, SubscriberGroup subscribers, PrintWriter err) throws UnknownHostException {
        this.server = ServerEndpoint.of(server);
        this.measurements = measurements;
        this.publishers = publishers;
        this.subscribers = subscribers;
        this.err = err;
        io = ClientIo.choose(mode);
        publisherLoops = io.newGroup("bench-publisher", 1);
        subscriberLoops = io.newGroup(name, threads);
        progress = new ProgressReporter(err);
    }

    Bootstrap publisherBootstrap() {
        return io.bootstrap(publisherLoops, FanoutBenchmark.SETUP_TIMEOUT);
    }

    Bootstrap subscriberBootstrap() {
        return io.bootstrap(subscriberLoops, FanoutBenchmark.SETUP_TIMEOUT);
    }

    @Override
    public void close() throws InterruptedException {
        try {
            measurements.closeAll();
            publishers.close();
            subscribers.close(FanoutBenchmark.CLOSE_TIMEOUT, err);
            ClientIo.stop(FanoutBenchmark.CLOSE_TIMEOUT, publisherLoops, subscriberLoops);
        } finally {
            progress.close();
        }
    }
}
