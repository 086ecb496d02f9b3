package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.SseParser.Event;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Dispatcher;
import io.nats.client.impl.Headers;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The NATS port (docs/nats.md) as NATS applications use it: through the official Java client, jnats, against a real
 * server on loopback. Each test uses its own subjects.
 */
@Timeout(60)
class NatsClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void start() {
        server = TestServer.start(c -> c.withNatsPort(0));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        server.close();
    }

    private Connection connect(Options.Builder options) throws Exception {
        Connection c = Nats.connect(options.server(server.natsUrl()).connectionTimeout(WAIT).build());
        open.add(c);
        return c;
    }

    private Connection connect() throws Exception {
        return connect(new Options.Builder());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Message m) {
        return new String(m.getData(), StandardCharsets.UTF_8);
    }

    private JsonNode stored(String topic) throws Exception {
        HttpResponse<String> r = server.get("/v1/topics/" + topic + "/messages?from=earliest");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void aPublishIsStoredWithAnOffsetAndReachesSubscribers() throws Exception {
        Connection sub = connect();
        Subscription s = sub.subscribe("orders.new");
        sub.flush(WAIT);
        Connection pub = connect();
        pub.publish("orders.new", bytes("first"));
        pub.publish("orders.new", new byte[] {0, '\r', '\n', (byte) 0xff, 'M', 'S', 'G'});
        pub.flush(WAIT); // the PONG comes once both are stored

        JsonNode messages = stored("orders.new").path("messages");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).path("offset").asLong()).isEqualTo(1);
        assertThat(messages.get(1).path("encoding").asText()).isEqualTo("base64");

        Message first = s.nextMessage(WAIT);
        assertThat(first.getSubject()).isEqualTo("orders.new");
        assertThat(text(first)).isEqualTo("first");
        assertThat(s.nextMessage(WAIT).getData()).containsExactly(0, '\r', '\n', 0xff, 'M', 'S', 'G');
    }

    @Test
    void wildcardsFollowEveryMatchingTopicIncludingOnesCreatedLater() throws Exception {
        server.post("/v1/topics/sensors.kitchen/messages", "text/plain", "before anyone listened");
        Connection sub = connect();
        Subscription one = sub.subscribe("sensors.*");
        Subscription all = sub.subscribe("sensors.>");
        sub.flush(WAIT);
        Connection pub = connect();
        pub.publish("sensors.kitchen", bytes("k1"));
        pub.publish("sensors.garage", bytes("g1")); // a topic created after the SUB
        pub.publish("sensors.garage.door", bytes("d1"));
        pub.publish("other", bytes("x"));
        pub.flush(WAIT);

        List<String> single = List.of(text(one.nextMessage(WAIT)), text(one.nextMessage(WAIT)));
        assertThat(single).containsExactlyInAnyOrder("k1", "g1");
        List<String> deep = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Message m = all.nextMessage(WAIT);
            deep.add(m.getSubject() + "=" + text(m));
        }
        assertThat(deep).containsExactlyInAnyOrder("sensors.kitchen=k1", "sensors.garage=g1",
                "sensors.garage.door=d1");
        pub.publish("sensors.garage", bytes("g2"));
        pub.flush(WAIT);
        assertThat(text(one.nextMessage(WAIT))).isEqualTo("g2");
        assertThat(one.nextMessage(Duration.ofMillis(300))).as("nothing else matched").isNull();
    }

    @Test
    void aQueueGroupGetsEachMessageOnceSpreadOverItsMembers() throws Exception {
        List<String> a = new CopyOnWriteArrayList<>();
        List<String> b = new CopyOnWriteArrayList<>();
        Connection ca = connect();
        Connection cb = connect();
        ca.createDispatcher(m -> a.add(text(m))).subscribe("tasks", "workers");
        cb.createDispatcher(m -> b.add(text(m))).subscribe("tasks", "workers");
        ca.flush(WAIT);
        cb.flush(WAIT);
        Connection pub = connect();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add("t" + i);
            pub.publish("tasks", bytes("t" + i));
        }
        pub.flush(WAIT);
        Awaitility.await().atMost(WAIT).until(() -> a.size() + b.size() >= 20);
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        assertThat(all).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(a).as("both members get a share").isNotEmpty();
        assertThat(b).isNotEmpty();
    }

    @Test
    void requestReplyTravelsLiveAndStoresNothing() throws Exception {
        Connection responder = connect();
        Dispatcher d = responder.createDispatcher(m -> responder.publish(m.getReplyTo(),
                bytes("echo:" + text(m))));
        d.subscribe("svc.echo");
        responder.flush(WAIT);
        int topicsBefore = server.server().broker().topicCount();

        Connection requester = connect();
        Message reply = requester.request("svc.echo", bytes("hi"), WAIT);
        assertThat(text(reply)).isEqualTo("echo:hi");
        CompletableFuture<Message> second = requester.request("svc.echo", bytes("again"));
        assertThat(text(second.get(10, TimeUnit.SECONDS))).isEqualTo("echo:again");

        assertThat(server.server().broker().topicCount()).as("neither the request nor its reply is a topic")
                .isEqualTo(topicsBefore);
        assertThat(server.server().broker().state("svc.echo")).isEmpty();
    }

    @Test
    void aRequestToJobsIsAJobWhoseResultIsTheReply() throws Exception {
        Connection requester = connect();
        CompletableFuture<Message> reply = requester.request("_jobs.resize", bytes("image-42"));
        JsonNode claimed = JSON.readTree(Awaitility.await().atMost(WAIT).until(() -> server.post(
                "/v1/queues/resize/claim?wait=1s", "text/plain", ""), r -> r.statusCode() == 200).body());
        assertThat(claimed.path("payload").asText()).isEqualTo("image-42");
        HttpResponse<String> done = server.send(java.net.http.HttpRequest.newBuilder(
                        server.uri("/v1/jobs/" + claimed.path("id").asText() + "/complete"))
                .header("Lease-Token", claimed.path("lease").asText()).header("Content-Type", "text/plain")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("thumbnail-42")).build());
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(text(reply.get(10, TimeUnit.SECONDS))).isEqualTo("thumbnail-42");
    }

    @Test
    void headersTravelWithTheMessageAndAreStoredInItsEnvelope() throws Exception {
        Connection c = connect();
        Subscription s = c.subscribe("with.headers");
        c.flush(WAIT);
        Headers headers = new Headers().add("Trace-Id", "t-42").add("Tag", "a", "b");
        c.publish("with.headers", headers, bytes("body"));
        c.flush(WAIT);
        Message m = s.nextMessage(WAIT);
        assertThat(m.getHeaders().get("Trace-Id")).containsExactly("t-42");
        assertThat(m.getHeaders().get("Tag")).containsExactly("a", "b");
        assertThat(text(m)).isEqualTo("body");
        JsonNode stored = stored("with.headers").path("messages").get(0);
        assertThat(stored.path("headers").path("Trace-Id").get(0).asText()).isEqualTo("t-42");
        assertThat(stored.path("headers").path("Tag")).hasSize(2);

        Connection responder = connect();
        responder.createDispatcher(r -> responder.publish(r.getReplyTo(), new Headers().add("Status", "ok"),
                r.getData())).subscribe("svc.headers");
        responder.flush(WAIT);
        Message reply = c.request("svc.headers", new Headers().add("Q", "1"), bytes("ping"), WAIT);
        assertThat(reply.getHeaders().get("Status")).containsExactly("ok");
    }

    @Test
    void noEchoKeepsAConnectionsOwnMessagesFromItself() throws Exception {
        Connection quiet = connect(new Options.Builder().noEcho());
        Subscription own = quiet.subscribe("chat.room");
        quiet.flush(WAIT);
        Connection other = connect();
        Subscription theirs = other.subscribe("chat.room");
        other.flush(WAIT);
        quiet.publish("chat.room", bytes("mine"));
        quiet.flush(WAIT);
        other.publish("chat.room", bytes("yours"));
        other.flush(WAIT);
        assertThat(text(theirs.nextMessage(WAIT))).isEqualTo("mine");
        assertThat(text(own.nextMessage(WAIT))).as("its own message is skipped").isEqualTo("yours");
    }

    @Test
    void unsubscribeAfterMaxMessagesEndsTheSubscription() throws Exception {
        Connection c = connect();
        Subscription s = c.subscribe("counted");
        s.unsubscribe(2);
        c.flush(WAIT);
        for (int i = 1; i <= 4; i++) {
            c.publish("counted", bytes("m" + i));
        }
        c.flush(WAIT);
        assertThat(text(s.nextMessage(WAIT))).isEqualTo("m1");
        assertThat(text(s.nextMessage(WAIT))).isEqualTo("m2");
        assertThat(stored("counted").path("messages")).hasSize(4);
        Awaitility.await().atMost(WAIT).until(() -> !s.isActive());
    }

    @Test
    void drainDeliversWhatIsInFlightThenCloses() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        Connection c = connect();
        c.createDispatcher(m -> got.add(text(m))).subscribe("drained");
        c.flush(WAIT);
        Connection pub = connect();
        for (int i = 0; i < 50; i++) {
            pub.publish("drained", bytes("d" + i));
        }
        pub.flush(WAIT);
        Awaitility.await().atMost(WAIT).until(() -> got.size() == 50);
        assertThat(c.drain(WAIT).get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.getStatus()).isEqualTo(Connection.Status.CLOSED);
    }

    @Test
    @Slow
    void aReconnectAfterARestartRestoresSubscriptions() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        List<ConnectionListener.Events> events = new CopyOnWriteArrayList<>();
        Connection c = connect(new Options.Builder().maxReconnects(-1).reconnectWait(Duration.ofMillis(100))
                .connectionListener((conn, event) -> events.add(event)));
        c.createDispatcher(m -> got.add(text(m))).subscribe("survives.*");
        c.flush(WAIT);
        c.publish("survives.a", bytes("before"));
        c.flush(WAIT);
        Awaitility.await().atMost(WAIT).until(() -> got.contains("before"));

        server.restart();
        Awaitility.await().atMost(WAIT).until(() -> events.contains(ConnectionListener.Events.RESUBSCRIBED));
        // No flush here: jnats 2.24.1 sometimes leaves the PING of a flush right after a reconnect unsent (seen
        // from the server: the PUB arrives, the PING never does). The delivery itself shows the SUB restored.
        c.publish("survives.b", bytes("after"));
        Awaitility.await().atMost(WAIT).until(() -> got.contains("after"));
        assertThat(stored("survives.a").path("messages")).hasSize(1);
    }

    @Test
    void natsPublishesReachSseWebSocketAndLongPollAndHttpPublishesReachNats() throws Exception {
        Connection c = connect();
        Subscription s = c.subscribe("bridge");
        c.flush(WAIT);
        try (HttpClientSse sse = HttpClientSse.open(server.http(), server.uri("/v1/topics/bridge/events"));
             WsClient ws = WsClient.connect(server, "/v1/ws?subscribe=bridge")) {
            ws.next("subscribed");
            CompletableFuture<HttpResponse<String>> poll = server.http().sendAsync(java.net.http.HttpRequest
                    .newBuilder(server.uri("/v1/topics/bridge/messages?from=1&wait=10s")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            c.publish("bridge", bytes("from nats"));
            c.flush(WAIT);
            Awaitility.await().atMost(WAIT).until(() -> !sse.messages().isEmpty());
            Event e = sse.messages().getFirst();
            assertThat(e.id()).isEqualTo("1");
            JsonNode frame = ws.next("message");
            assertThat(frame.path("offset").asLong()).isEqualTo(1);
            assertThat(frame.path("data").asText()).isEqualTo("from nats");
            JsonNode polled = JSON.readTree(poll.get(10, TimeUnit.SECONDS).body());
            assertThat(polled.path("messages").get(0).path("offset").asLong()).isEqualTo(1);
        }
        assertThat(text(s.nextMessage(WAIT))).isEqualTo("from nats");
        assertThat(server.post("/v1/topics/bridge/messages", "text/plain", "from http").statusCode())
                .isEqualTo(201);
        Message m = s.nextMessage(WAIT);
        assertThat(m.getSubject()).isEqualTo("bridge");
        assertThat(text(m)).isEqualTo("from http");
    }
}
