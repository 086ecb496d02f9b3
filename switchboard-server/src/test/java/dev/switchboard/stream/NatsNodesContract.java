package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.TestServer;
import io.nats.client.Connection;
import io.nats.client.impl.Headers;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * NATS live messages (requests, replies) across two nodes on one Redis (docs/nats.md, "Across nodes"): the official
 * client, jnats, on each node's NATS port; two real servers; a real Redis that the subclass starts (one
 * redis-server, or a Redis Cluster). Each test uses its own subjects.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // a subclass chooses the Redis (startRedis)
abstract class NatsNodesContract {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** The sharded channel live messages travel on (RedisLive, with the servers' key prefix). */
    private static final String LIVE_CHANNEL = "switchboard:{:live}:c";
    /** Which node has members of which queue group (RedisLive): fields "group node pattern". */
    private static final String LIVE_GROUPS = "switchboard:{:live}:groups";

    private TestServer a;
    private TestServer b;
    private final List<Connection> open = new ArrayList<>();

    /** Starts the Redis the nodes share in {@code dir}; returns its URI for {@code --engine}. */
    abstract String startRedis(Path dir);

    /** {@code redis-cli} against that Redis, where the key or channel of the command lives; its output. */
    abstract String cli(String... args);

    abstract void stopRedis();

    @BeforeAll
    void startRedisAndNodes(@TempDir Path dir) {
        String uri = startRedis(dir.resolve("redis"));
        a = TestServer.start(c -> c.withEngine(uri).withNatsPort(0));
        b = TestServer.start(c -> c.withEngine(uri).withNatsPort(0));
    }

    @AfterEach
    void closeClients() throws InterruptedException {
        for (Connection c : open) {
            c.close();
        }
        open.clear();
        // Every SUB is gone: no node stays subscribed for live messages (the next test starts from none).
        await().atMost(WAIT).until(() -> liveSubscribers() == 0);
    }

    @AfterAll
    void stopNodesAndRedis() {
        a.close();
        b.close();
        stopRedis();
    }

    private Connection connect(TestServer node) throws Exception {
        Connection c = Nats.connect(new Options.Builder().server(node.natsUrl()).connectionTimeout(WAIT).build());
        open.add(c);
        return c;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Message m) {
        return new String(m.getData(), StandardCharsets.UTF_8);
    }

    /** How many nodes are subscribed to the live channel, as Redis counts them. */
    private int liveSubscribers() {
        String[] lines = cli("PUBSUB", "SHARDNUMSUB", LIVE_CHANNEL).split("\n");
        return Integer.parseInt(lines[lines.length - 1].trim());
    }

    private static int topicCount(TestServer node) {
        return node.server().broker().topicCount();
    }

    @Test
    void aRequestOnOneNodeIsAnsweredByAResponderOnTheOther() throws Exception {
        Connection responder = connect(b);
        responder.createDispatcher(m -> responder.publish(m.getReplyTo(), bytes("echo:" + text(m))))
                .subscribe("svc.echo");
        responder.flush(WAIT); // its PONG comes once node a's requests can reach it
        Connection requester = connect(a);

        int topicsBefore = topicCount(a);
        List<CompletableFuture<Message>> replies = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            replies.add(requester.requestWithTimeout("svc.echo", bytes("r" + i), WAIT));
        }
        for (int i = 0; i < replies.size(); i++) {
            assertThat(text(replies.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS))).isEqualTo("echo:r" + i);
        }
        assertThat(topicCount(a)).as("neither requests nor replies are topics").isEqualTo(topicsBefore);
    }

    @Test
    void aQueueGroupWithMembersOnBothNodesHandlesEachRequestOnce() throws Exception {
        // A node that died holding a member: its membership ran out (valid until 1 ms after the epoch), so it is
        // never picked, and the first request's pick removes it.
        String deadMember = "workers deadnode svc.work";
        cli("HSET", LIVE_GROUPS, deadMember, "1");
        Map<String, Integer> handled = new ConcurrentHashMap<>();
        for (TestServer node : List.of(a, a, b, b)) {
            String name = node == a ? "a" : "b";
            Connection member = connect(node);
            member.createDispatcher(m -> {
                handled.merge(text(m), 1, Integer::sum);
                member.publish(m.getReplyTo(), bytes(name + ":" + text(m)));
            }).subscribe("svc.work", "workers");
            member.flush(WAIT);
        }
        Connection requesterA = connect(a);
        Connection requesterB = connect(b);

        int n = 200;
        List<CompletableFuture<Message>> replies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection requester = i % 2 == 0 ? requesterA : requesterB;
            replies.add(requester.requestWithTimeout("svc.work", bytes("job" + i), WAIT));
        }
        // Which node's member handled each request, by the node it was sent to.
        Map<String, AtomicInteger> sentToHandledOn = new ConcurrentHashMap<>();
        for (int i = 0; i < n; i++) {
            String reply = text(replies.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertThat(reply).endsWith(":job" + i);
            String route = (i % 2 == 0 ? "a" : "b") + "->" + reply.substring(0, reply.indexOf(':'));
            sentToHandledOn.computeIfAbsent(route, r -> new AtomicInteger()).incrementAndGet();
        }
        assertThat(handled).hasSize(n);
        assertThat(handled.values()).as("each request handled by exactly one member").containsOnly(1);
        // The node is picked at random among those with members: every route is taken (one not taken: 2^-99).
        assertThat(sentToHandledOn).containsOnlyKeys("a->a", "a->b", "b->a", "b->b");
        assertThat(cli("HEXISTS", LIVE_GROUPS, deadMember)).isEqualTo("0");
    }

    @Test
    void inboxWildcardsHeadersAndAReplySubjectARequestNamedCrossNodes() throws Exception {
        Connection onB = connect(b);
        Subscription inbox = onB.subscribe("_INBOX.custom.*");
        Connection responder = connect(b);
        // A wildcard responder answers on the reply subject the request named, which is no inbox: live, not stored.
        responder.createDispatcher(m -> responder.publish(m.getReplyTo(), bytes("done:" + m.getSubject())))
                .subscribe("svc.tasks.>");
        onB.flush(WAIT);
        responder.flush(WAIT);

        Connection onA = connect(a);
        Subscription replies = onA.subscribe("answers.a");
        onA.flush(WAIT);
        onA.publish("_INBOX.custom.1", bytes("one"));
        onA.publish("_INBOX.custom.2", bytes("two"));
        onA.publish("_INBOX.custom.3", new Headers().add("Trace", "t-1"), bytes("three"));
        onA.publish("svc.tasks.resize.big", "answers.a", bytes("please"));
        onA.flush(WAIT);

        Message first = inbox.nextMessage(WAIT);
        Message second = inbox.nextMessage(WAIT);
        assertThat(List.of(first.getSubject() + "=" + text(first), second.getSubject() + "=" + text(second)))
                .containsExactly("_INBOX.custom.1=one", "_INBOX.custom.2=two");
        Message third = inbox.nextMessage(WAIT);
        assertThat(text(third)).isEqualTo("three");
        assertThat(third.getHeaders().getFirst("Trace")).as("a header block crosses nodes as sent").isEqualTo("t-1");
        Message answer = replies.nextMessage(WAIT);
        assertThat(answer.getSubject()).isEqualTo("answers.a");
        assertThat(text(answer)).isEqualTo("done:svc.tasks.resize.big");
        assertThat(a.server().broker().state("answers.a")).as("a reply is never stored").isEmpty();
        assertThat(replies.nextMessage(Duration.ofMillis(300))).as("the reply came once").isNull();
    }

    @Test
    void aNodeHoldsARedisSubscriptionForLiveMessagesOnlyWhileItHasNatsSubscriptions() throws Exception {
        Connection publisher = connect(a);
        publisher.publish("_INBOX.nobody.1", bytes("unheard"));
        publisher.flush(WAIT);
        assertThat(liveSubscribers()).as("connections and publishes alone subscribe nothing").isZero();

        Connection onA = connect(a);
        Subscription s = onA.subscribe("_INBOX.presence.*");
        onA.flush(WAIT);
        assertThat(liveSubscribers()).isEqualTo(1);
        Connection onB = connect(b);
        onB.subscribe("_INBOX.presence.*");
        onB.subscribe("svc.more"); // a node subscribes once however many SUBs it has
        onB.flush(WAIT);
        assertThat(liveSubscribers()).isEqualTo(2);

        s.unsubscribe();
        onA.flush(WAIT);
        await().atMost(WAIT).until(() -> liveSubscribers() == 1);
        onB.close();
        await().atMost(WAIT).until(() -> liveSubscribers() == 0);
    }
}
