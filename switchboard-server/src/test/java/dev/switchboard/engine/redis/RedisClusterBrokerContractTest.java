package dev.switchboard.engine.redis;

import static dev.switchboard.broker.Answers.refusal;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TestTransaction;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.RedisCluster;
import dev.switchboard.testing.Slow;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Redis engine keeps the engine contract on a real three-master Redis Cluster ({@code redis-cluster://}), which
 * this class creates and stops. A script runs in one hash slot there, so the contract's transactions that change
 * several unrelated topics, or topics and records that are not theirs, are refused whole with a clear error instead
 * (docs/cluster.md): those tests are replaced by ones that check the refusal and that nothing of it was stored. A
 * topic, the topics derived from it and its records are one slot, and change together.
 */
@Slow
class RedisClusterBrokerContractTest extends RedisEngineContract {
    @TempDir
    static Path dir;
    private static RedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisCluster.start(dir);
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @Override
    protected String uri() {
        return cluster.uri();
    }

    @Override
    protected void flushAll() {
        cluster.flushAll();
    }

    private static final String TEXT = "text/plain";

    /** Submits a transaction of {@code body} and checks that it is refused for spanning slots. */
    private void assertRefusedAcrossSlots(Consumer<Transaction.Stage> body) {
        TestTransaction tx = new TestTransaction(body);
        broker.submit(tx);
        ApiException refused = refusal(tx.outcome());
        assertThat(refused.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
        assertThat(refused.getMessage()).contains("one hash slot");
    }

    /** Opens the engine on an empty cluster, with one message on each of {@code topics}. */
    private void openWithOneMessageOn(String... topics) {
        broker = open(Limits.defaults(), Retention.UNLIMITED);
        for (String topic : topics) {
            value(broker.append(topic, TEXT, bytes("1"), null));
        }
    }

    private void assertStillOneMessageOn(String topic) {
        assertThat(broker.state(topic).orElseThrow().lastOffset()).isEqualTo(1);
        assertThat(value(broker.read(topic, 1, 10, Long.MAX_VALUE))).hasSize(1);
    }

    @Test
    @Override
    public void aTransactionsMessagesAndRecordsBecomeVisibleTogether() {
        openWithOneMessageOn();
        assertRefusedAcrossSlots(s -> {
            s.append("atomic.a", TEXT, bytes("1"));
            s.append("atomic.b", TEXT, bytes("1"));
            s.putRecord("atomic/1", bytes("1"));
        });
        assertThat(broker.state("atomic.a")).isEmpty();
        assertThat(broker.state("atomic.b")).isEmpty();
        assertThat(value(broker.record("atomic/1"))).isNull();
    }

    @Test
    @Override
    public void aTransactionsChangesAreAllReadableWhenItIsAnnounced() {
        openWithOneMessageOn("both.a");
        assertRefusedAcrossSlots(s -> {
            s.append("both.a", TEXT, bytes("a"));
            s.append("both.b", TEXT, bytes("b"));
        });
        assertStillOneMessageOn("both.a");
        assertThat(broker.state("both.b")).isEmpty();
    }

    @Test
    @Override
    public void aTransactionRefusedByItsStageIsRefusedAloneAndTheRestOfItsCommitIsStored() {
        openWithOneMessageOn();
        assertRefusedAcrossSlots(s -> {
            s.append("mixed", TEXT, bytes("1"));
            s.putRecord("mixed/before", bytes("1"));
        });
        assertThat(broker.state("mixed")).isEmpty();
        assertThat(value(broker.record("mixed/before"))).isNull();
        TestTransaction recordsOnly = new TestTransaction(s -> s.putRecord("mixed/after", bytes("2")));
        broker.submit(recordsOnly);
        value(recordsOnly.outcome());
        assertThat(value(broker.record("mixed/after"))).as("records alone are one slot").isEqualTo(bytes("2"));
    }

    @Test
    @Override
    public void aTransactionDeletesATopicWithItsMessages() {
        openWithOneMessageOn("doomed");
        assertRefusedAcrossSlots(s -> {
            s.deleteTopic("doomed");
            s.putRecord("doomed/expired", bytes("yes"));
        });
        assertStillOneMessageOn("doomed");
    }

    @Test
    @Override
    public void messagesAppendedThenDeletedInOneTransactionAreNeverSeen() {
        openWithOneMessageOn("existing");
        assertRefusedAcrossSlots(s -> {
            s.append("existing", TEXT, bytes("2"));
            s.deleteTopic("existing");
            s.append("brand.new", TEXT, bytes("1"));
        });
        assertStillOneMessageOn("existing");
        assertThat(broker.topics()).extracting(t -> t.name()).isEqualTo(List.of("existing"));
    }

    @Test
    @Override
    public void everythingAcknowledgedSurvivesARestartAndOffsetsContinue() {
        openWithOneMessageOn("kept");
        assertRefusedAcrossSlots(s -> {
            s.append("_jobs.r", TEXT, bytes("event"));
            s.putRecord("job/r", bytes("job state"));
        });
        broker = restart();
        assertThat(broker.state("_jobs.r")).isEmpty();
        assertThat(value(broker.append("kept", TEXT, bytes("2"), null)).offset()).isEqualTo(2);
    }

    @Test
    void aTopicItsDerivedTopicsAndItsRecordsChangeTogether() {
        openWithOneMessageOn("room", "room.dead");
        TestTransaction tx = new TestTransaction(s -> {
            s.append("room", TEXT, bytes("2"));
            s.append("_presence.room", TEXT, bytes("join"));
            s.append("room.dead", TEXT, bytes("letter"));
            s.append("room.dead.dead", TEXT, bytes("letter's letter"));
            s.putRecord("presence/room/node/member", bytes("m"));
            s.deleteRecord("g/room/workers/1");
        });
        broker.submit(tx);
        value(tx.outcome());
        assertThat(broker.state("room").orElseThrow().lastOffset()).isEqualTo(2);
        assertThat(broker.state("_presence.room").orElseThrow().lastOffset()).isEqualTo(1);
        assertThat(broker.state("room.dead").orElseThrow().lastOffset()).isEqualTo(2);
        assertThat(value(broker.read("room.dead.dead", 1, 10, Long.MAX_VALUE))).hasSize(1);
        assertThat(broker.recordsWithPrefix("presence/")).extracting(r -> r.key())
                .containsExactly("presence/room/node/member");

        assertRefusedAcrossSlots(s -> {
            s.append("room", TEXT, bytes("3"));
            s.putRecord("presence/hall/node/member", bytes("another topic's"));
        });
        assertThat(broker.state("room").orElseThrow().lastOffset()).isEqualTo(2);
        assertThat(value(broker.record("presence/hall/node/member"))).isNull();
    }
}
