package dev.switchboard.broker;

import static dev.switchboard.broker.Answers.refusal;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.Limits;
import dev.switchboard.wire.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;

/**
 * What every part of the engine contract works with: the engine under test, which {@link BrokerContractTest} opens,
 * restarts and closes, and the calls the tests make on it. The parts are interfaces on this one, so that one class per
 * engine runs them all and starts that engine's servers once.
 */
interface ContractFixture {
    String TEXT = "text/plain";

    /** The engine under test, as the last {@link #openWith} or {@link #reopen} left it; closed after each test. */
    Broker broker();

    /** Opens the engine under test on fresh, empty storage with these limits and this retention for new topics. */
    Broker openWith(Limits limits, Retention defaultRetention);

    /** Closes the engine under test, if it is still open, and opens it again with its settings on its storage. */
    Broker reopen();

    /** Threads for a test's concurrent callers; stopped after each test. */
    ExecutorService pool();

    default Broker open() {
        return openWith(Limits.defaults(), Retention.UNLIMITED);
    }

    default List<Long> range(long first, long last) {
        return LongStream.rangeClosed(first, last).boxed().toList();
    }

    default PublishResult append(String topic, String payload) {
        return value(broker().append(topic, TEXT, bytes(payload), null));
    }

    default PublishResult append(String topic, String payload, String key) {
        return value(broker().append(topic, TEXT, bytes(payload), key));
    }

    default List<Message> read(String topic, long from, int maxCount, long maxBytes) {
        return value(broker().read(topic, from, maxCount, maxBytes));
    }

    /** Every retained message of a topic from {@code from} on. */
    default List<Message> readAll(String topic, long from) {
        List<Message> all = new ArrayList<>();
        long next = from;
        while (true) {
            List<Message> batch = read(topic, next, 1000, Long.MAX_VALUE);
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
            next = batch.getLast().offset() + 1;
        }
    }

    default List<Long> offsetsOf(String topic) {
        return readAll(topic, 1).stream().map(Message::offset).toList();
    }

    default List<String> payloadsOf(String topic) {
        return readAll(topic, 1).stream().map(Payloads::text).toList();
    }

    default TopicState state(String topic) {
        return broker().state(topic).orElseThrow(() -> new AssertionError("no topic " + topic));
    }

    default void submit(TestTransaction tx) {
        broker().submit(tx);
    }

    /** Submits a transaction of {@code body} and waits until it is committed. */
    default TestTransaction commit(Consumer<Transaction.Stage> body) {
        TestTransaction tx = new TestTransaction(body);
        submit(tx);
        value(tx.outcome());
        return tx;
    }

    /** Two messages on a topic, the first with the idempotency key {@code k}; returns the topic's epoch. */
    default long twoMessagesOn(String topic) {
        append(topic, "one", "k");
        append(topic, "two");
        return state(topic).epoch();
    }

    /** The results of {@code call} made by {@code callers} threads that all start at once. */
    default <T> List<T> atOnce(int callers, Callable<T> call) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<T>> calls = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            calls.add(pool().submit(() -> {
                go.await();
                return call.call();
            }));
        }
        go.countDown();
        List<T> results = new ArrayList<>();
        for (Future<T> f : calls) {
            results.add(f.get(30, TimeUnit.SECONDS));
        }
        return results;
    }

    default void assertRefused(Supplier<? extends CompletableFuture<?>> call, ErrorCode code) {
        assertThat(refusal(call).code()).isEqualTo(code);
    }

    default void assertRefused(CompletableFuture<?> outcome, ErrorCode code) {
        assertThat(refusal(outcome).code()).isEqualTo(code);
    }

    default void awaitFirstOffset(String topic, long first) {
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> state(topic).firstOffset() == first);
    }

    default void awaitHeard(RecordingWatcher w, String event) {
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().contains(event));
    }

    default List<byte[]> texts(String... payloads) {
        return Arrays.stream(payloads).map(Payloads::bytes).toList();
    }
}
