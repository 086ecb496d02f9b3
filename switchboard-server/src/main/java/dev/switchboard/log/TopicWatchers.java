package dev.switchboard.log;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicWatcher;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watchers of every topic, by name (a topic not stored yet may have some), and the writer's calls to them. A
 * watcher that throws is logged and skipped: it must not stop the others or the writer. Calls are made without
 * allocating, once per message per watcher on the publish path.
 *
 * <p>Threads: any thread adds and cancels; only the log writer calls the watchers.
 */
final class TopicWatchers {
    private static final Logger log = LoggerFactory.getLogger(TopicWatchers.class);

    private final ConcurrentHashMap<String, CopyOnWriteArrayList<TopicWatcher>> byTopic = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<String>> creations = new CopyOnWriteArrayList<>();

    Broker.Watch addCreations(Consumer<String> listener) {
        creations.add(listener);
        return () -> creations.remove(listener);
    }

    /** A topic is stored and readable for the first time (or again, after a deletion). */
    void created(String topic) {
        for (Consumer<String> c : creations) {
            try {
                c.accept(topic);
            } catch (RuntimeException e) {
                log.error("a creation listener ({}) failed; continuing", c, e);
            }
        }
    }

    Broker.Watch add(String topic, TopicWatcher watcher) {
        byTopic.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(watcher);
        return () -> byTopic.computeIfPresent(topic, (t, list) -> {
            list.remove(watcher);
            return list.isEmpty() ? null : list;
        });
    }

    void appended(String topic, Message m) {
        List<TopicWatcher> ws = byTopic.get(topic);
        if (ws != null) {
            for (TopicWatcher w : ws) {
                try {
                    w.appended(m);
                } catch (RuntimeException e) {
                    failed(w, e);
                }
            }
        }
    }

    void truncated(String topic, long firstOffset) {
        List<TopicWatcher> ws = byTopic.get(topic);
        if (ws != null) {
            for (TopicWatcher w : ws) {
                try {
                    w.truncated(firstOffset);
                } catch (RuntimeException e) {
                    failed(w, e);
                }
            }
        }
    }

    void committed(String topic) {
        tell(byTopic.get(topic), TopicWatcher::committed);
    }

    /** The topic was deleted: its watchers are told once and dropped. */
    void deleted(String topic) {
        tell(byTopic.remove(topic), TopicWatcher::deleted);
    }

    private static void tell(List<TopicWatcher> ws, Consumer<TopicWatcher> call) {
        if (ws != null) {
            for (TopicWatcher w : ws) {
                try {
                    call.accept(w);
                } catch (RuntimeException e) {
                    failed(w, e);
                }
            }
        }
    }

    private static void failed(TopicWatcher w, RuntimeException e) {
        log.error("a watcher ({}) failed; continuing", w, e);
    }
}
