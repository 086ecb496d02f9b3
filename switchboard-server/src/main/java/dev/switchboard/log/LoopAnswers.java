package dev.switchboard.log;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answers of one commit, gathered per event loop and handed to each loop as one task: a loop woken once per
 * commit instead of once per publish. Writer thread only.
 */
final class LoopAnswers {
    private static final Logger log = LoggerFactory.getLogger(LoopAnswers.class);

    private final Map<Executor, List<Runnable>> byLoop = new IdentityHashMap<>();

    /** Runs {@code answer} on {@code loop} at the next {@link #flush}, or now when there is no loop to answer on. */
    void post(Executor loop, Runnable answer) {
        if (loop == null) {
            answer.run();
        } else {
            byLoop.computeIfAbsent(loop, l -> new ArrayList<>()).add(answer);
        }
    }

    void flush() {
        if (byLoop.isEmpty()) {
            return;
        }
        for (Map.Entry<Executor, List<Runnable>> e : byLoop.entrySet()) {
            List<Runnable> answers = e.getValue();
            try {
                e.getKey().execute(() -> runAll(answers));
            } catch (RejectedExecutionException stopped) {
                runAll(answers); // the loop is shutting down: answer here rather than never
            }
        }
        byLoop.clear();
    }

    private static void runAll(List<Runnable> answers) {
        for (Runnable answer : answers) {
            try {
                answer.run();
            } catch (RuntimeException e) {
                log.error("answering a publish failed", e);
            }
        }
    }
}
