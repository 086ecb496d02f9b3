package dev.switchboard.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link TopicWatcher} that keeps what it heard ({@code appended 3}, {@code committed}, {@code truncated 8},
 * {@code deleted}) and checks, inside each call, that the change is already readable: the topic's state shows it
 * there and then, and a read issued there and then returns it (checked later by
 * {@link #assertEveryChangeWasReadableWhenHeard}, since a watcher must not block).
 */
public final class RecordingWatcher implements TopicWatcher {
    private final Broker broker;
    private final String topic;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<Message> messages = new CopyOnWriteArrayList<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    /** The epoch of the topic as this watcher's calls saw it, or null before one saw it. */
    private volatile Long epoch;
    /**
     * Reads issued inside calls, each completing with its verdict, judged when the test asks: null when it showed
     * the change, else what was wrong.
     */
    private final List<CompletableFuture<Supplier<String>>> reads = new CopyOnWriteArrayList<>();

    public RecordingWatcher(Broker broker, String topic) {
        this.broker = broker;
        this.topic = topic;
    }

    /** A new watcher, registered on {@code broker}. */
    public static RecordingWatcher watching(Broker broker, String topic) {
        RecordingWatcher w = new RecordingWatcher(broker, topic);
        broker.watch(topic, w);
        return w;
    }

    @Override
    public void appended(Message m) {
        events.add("appended " + m.offset());
        messages.add(m);
        if (!m.topic().equals(topic)) {
            violations.add("appended a message of " + m.topic());
        }
        Optional<TopicState> state = broker.state(topic);
        if (replacedSince(state)) {
            // An engine shared by several nodes tells its watchers a little after the change: the topic may have
            // been deleted (and created again) since, which this watcher must then hear.
            reads.add(CompletableFuture.completedFuture(() -> droppedSince(m.offset()) ? null
                    : "appended " + m.offset() + " while the state said " + state));
        } else if (state.get().lastOffset() < m.offset()) {
            // Heard late, this may be the topic before a deletion whose successor this watcher took for its own
            // (the epoch it adopted came from a late call too): excused once it hears that deletion.
            reads.add(CompletableFuture.completedFuture(() -> droppedSince(m.offset()) ? null
                    : "appended " + m.offset() + " while the state said " + state));
        } else {
            epoch = state.get().epoch();
        }
        reads.add(broker.read(topic, m.offset(), 1, Long.MAX_VALUE).thenApply(read -> () ->
                (read.size() == 1 && read.getFirst().offset() == m.offset()) || droppedSince(m.offset())
                        ? null : "a read of " + m.offset() + " issued in appended returned " + offsets(read)));
    }

    @Override
    public void truncated(long firstOffset) {
        events.add("truncated " + firstOffset);
        Optional<TopicState> state = broker.state(topic);
        if (state.isEmpty()) {
            reads.add(CompletableFuture.completedFuture(() -> events.contains("deleted") ? null
                    : "truncated to " + firstOffset + " while there was no such topic"));
        } else if (state.get().firstOffset() < firstOffset) {
            violations.add("truncated to " + firstOffset + " while the state said " + state);
        }
        reads.add(broker.read(topic, 1, 1, Long.MAX_VALUE).thenApply(read -> () ->
                read.isEmpty() || read.getFirst().offset() >= firstOffset
                        ? null : "a read from 1 issued in truncated(" + firstOffset + ") returned " + offsets(read)));
    }

    @Override
    public void committed() {
        events.add("committed");
        if (!messages.isEmpty()) {
            long last = messages.getLast().offset();
            Optional<TopicState> state = broker.state(topic);
            if (!replacedSince(state) && state.get().lastOffset() < last) {
                reads.add(CompletableFuture.completedFuture(() -> droppedSince(last) ? null
                        : "committed after appended " + last + " while the state said " + state));
            }
        }
    }

    @Override
    public void deleted() {
        events.add("deleted");
        // A topic of the same name created again since (in the deleting commit, or on another node) may be there.
        Optional<TopicState> state = broker.state(topic);
        // A topic behind what this watcher heard is a successor, whatever epoch a late call made it adopt.
        long heard = messages.isEmpty() ? 0 : messages.getLast().offset();
        if (state.isPresent() && (epoch == null || state.get().epoch() == epoch)
                && state.get().lastOffset() >= heard) {
            violations.add("deleted while the state said " + state);
        }
    }

    /** No topic, or another one of the same name than the one this watcher's calls saw. */
    private boolean replacedSince(Optional<TopicState> state) {
        return state.isEmpty() || (epoch != null && state.get().epoch() != epoch);
    }

    /**
     * Whether this watcher has heard that {@code offset} was dropped (by retention or deletion): the only excuse
     * for a read issued when it was announced not to find it, as the read runs a little later. Asked once the
     * test is done, when everything that happened has been heard.
     */
    private boolean droppedSince(long offset) {
        return events.stream().anyMatch(e -> e.equals("deleted")
                || (e.startsWith("truncated ") && Long.parseLong(e.substring(10)) > offset));
    }

    /** Everything heard, in order. */
    public List<String> events() {
        return List.copyOf(events);
    }

    /** The messages heard, in the order heard. */
    public List<Message> messages() {
        return List.copyOf(messages);
    }

    /** The offsets of the messages heard, in the order heard. */
    public List<Long> offsets() {
        return offsets(messages);
    }

    /** How many times {@code event} was heard. */
    public long count(String event) {
        return events.stream().filter(event::equals).count();
    }

    public void assertEveryChangeWasReadableWhenHeard() {
        assertThat(violations).as("changes heard before they were readable").isEmpty();
        List<String> late = new ArrayList<>();
        for (CompletableFuture<Supplier<String>> read : reads) {
            String problem = read.orTimeout(30, TimeUnit.SECONDS).join().get();
            if (problem != null) {
                late.add(problem);
            }
        }
        assertThat(late).as("reads issued inside the watcher's calls").isEmpty();
    }

    private static List<Long> offsets(List<Message> messages) {
        return messages.stream().map(Message::offset).toList();
    }
}
