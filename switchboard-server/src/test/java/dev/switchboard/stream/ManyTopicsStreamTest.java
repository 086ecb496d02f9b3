package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.json;
import static dev.switchboard.stream.StreamFixtures.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.StreamCursor;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.SseParser.Event;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Streams over many topics and patterns ({@code GET /v1/events}, {@code GET /v1/messages}) on a real server, read by
 * the JDK HttpClient: topics there before and created after the stream starts, one cursor resuming all of them, and
 * refused input that changes nothing. Every test uses topics of its own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // a subclass chooses the server (newServer)
class ManyTopicsStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private TestServer server;
    private final List<SseClient> clients = new ArrayList<>();

    @BeforeAll
    void start() {
        server = newServer(c -> c);
    }

    /** The server these tests run against: on the embedded engine here, on Redis in {@link RedisManyTopicsStreamTest}. */
    TestServer newServer(UnaryOperator<ServerConfig> customize) {
        return TestServer.start(customize);
    }

    @AfterEach
    void disconnect() {
        clients.forEach(SseClient::close);
        clients.clear();
    }

    @AfterAll
    void stop() {
        server.close();
    }

    /** A message as a stream shows it: its topic and offset (from the envelope) and its payload. */
    record Seen(String topic, long offset, String data) {}

    private static Seen seen(Event e) {
        JsonNode envelope = json(e.data());
        return new Seen(envelope.path("topic").asText(), envelope.path("offset").asLong(),
                envelope.path("data").asText());
    }

    private HttpClientSse sse(String query, String... headers) {
        HttpClientSse c = HttpClientSse.open(server.http(), server.uri("/v1/events?" + query), headers);
        clients.add(c);
        return c;
    }

    private static List<Seen> seen(SseClient c) {
        return c.messages().stream().map(ManyTopicsStreamTest::seen).toList();
    }

    @Test
    void sseFollowsTopicsAndPatternsThereBeforeAndCreatedAfterEachEventNamingItsTopicAndOffset() {
        publish(server, "s1.a", "a1");
        publish(server, "s1.chat.x", "x1");
        publish(server, "s1.other", "o1");
        HttpClientSse c = sse("topic=s1.a&topic=s1.chat.*&from=earliest");
        await().atMost(WAIT).until(() -> c.messages().size() == 2);

        publish(server, "s1.chat.y", "y1"); // created after the stream started: followed from offset 1
        publish(server, "s1.a", "a2");
        publish(server, "s1.chat.x", "x2");
        publish(server, "s1.other", "o2"); // matched by nothing
        publish(server, "s1.chat.x.deep", "d1"); // '*' is one segment
        publish(server, "s1.chat.y", "y2");

        await().atMost(WAIT).until(() -> c.messages().size() == 6);
        List<Seen> got = seen(c);
        assertThat(got).containsExactlyInAnyOrder(new Seen("s1.a", 1, "a1"), new Seen("s1.chat.x", 1, "x1"),
                new Seen("s1.chat.y", 1, "y1"), new Seen("s1.a", 2, "a2"), new Seen("s1.chat.x", 2, "x2"),
                new Seen("s1.chat.y", 2, "y2"));
        assertPerTopicOrder(got);
        assertThat(c.messages()).allSatisfy(e -> assertThat(e.id()).matches("[A-Za-z0-9_-]+"));
        publish(server, "s1.a", "a3");
        await().atMost(WAIT).until(() -> c.messages().size() == 7);
        assertThat(seen(c).getLast()).isEqualTo(new Seen("s1.a", 3, "a3"));
    }

    @Test
    void fromNextStartsEveryTopicAfterWhatItHeldWhenTheStreamBegan() {
        publish(server, "s2.a", "old a");
        publish(server, "s2.p.x", "old x");
        HttpClientSse c = sse("topic=s2.a&topic=s2.p.%3E");
        publish(server, "s2.p.x", "new x");
        publish(server, "s2.p.y.z", "new z");
        publish(server, "s2.a", "new a");
        await().atMost(WAIT).untilAsserted(() -> assertThat(seen(c)).containsExactlyInAnyOrder(
                new Seen("s2.p.x", 2, "new x"), new Seen("s2.p.y.z", 1, "new z"), new Seen("s2.a", 2, "new a")));
    }

    @Test
    void lastEventIdResumesEveryTopicAtOnceNothingLostNothingRepeated() {
        for (int i = 1; i <= 3; i++) {
            publish(server, "s3.a", "a" + i);
            publish(server, "s3.b.one", "one" + i);
        }
        HttpClientSse first = sse("topic=s3.a&topic=s3.b.*&from=earliest");
        await().atMost(WAIT).until(() -> first.messages().size() == 6);
        Event fourth = first.messages().get(3);
        List<Seen> beforeResume = seen(first).subList(0, 4);
        first.close();

        // Published while away, one on a topic the pattern did not match before: it is resumed from offset 1.
        publish(server, "s3.a", "a4");
        publish(server, "s3.b.two", "two1");
        HttpClientSse resumed = sse("topic=s3.a&topic=s3.b.*&from=earliest", "Last-Event-ID", fourth.id());
        await().atMost(WAIT).until(() -> resumed.messages().size() == 4);

        List<Seen> all = new ArrayList<>(beforeResume);
        all.addAll(seen(resumed));
        List<Seen> expected = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            expected.add(new Seen("s3.a", i, "a" + i));
        }
        for (int i = 1; i <= 3; i++) {
            expected.add(new Seen("s3.b.one", i, "one" + i));
        }
        expected.add(new Seen("s3.b.two", 1, "two1"));
        assertThat(all).containsExactlyInAnyOrderElementsOf(expected); // a duplicate would make the sizes differ
        assertPerTopicOrder(all);
    }

    /** The first event after a resume already carries every topic's position, not only those started before it. */
    @Test
    void everyEventOfAResumedStreamCarriesEveryTopicsPosition() {
        publish(server, "s5.b", "b1");
        publish(server, "s5.p.x", "x1");
        HttpClientSse first = sse("topic=s5.a&topic=s5.b&topic=s5.p.*&from=earliest");
        await().atMost(WAIT).until(() -> first.messages().size() == 2);
        String cursor = first.messages().getLast().id();
        assertThat(StreamCursor.decode(cursor)).containsEntry("s5.b", 2L).containsEntry("s5.p.x", 2L);
        first.close();

        // Another reader keeps s5.a's feed open, so its messages are in memory and a new stream sends them at once.
        HttpClientSse keeper = HttpClientSse.open(server.http(), server.uri("/v1/topics/s5.a/events"));
        clients.add(keeper);
        publish(server, "s5.a", "a1");
        publish(server, "s5.a", "a2");
        await().atMost(WAIT).until(() -> keeper.messages().size() == 2);
        HttpClientSse resumed = sse("topic=s5.a&topic=s5.b&topic=s5.p.*&from=earliest", "Last-Event-ID", cursor);
        await().atMost(WAIT).until(() -> resumed.messages().size() == 2);
        assertThat(seen(resumed)).containsExactly(new Seen("s5.a", 1, "a1"), new Seen("s5.a", 2, "a2"));
        assertThat(resumed.messages()).allSatisfy(e -> assertThat(StreamCursor.decode(e.id()))
                .containsEntry("s5.b", 2L).containsEntry("s5.p.x", 2L));
    }

    @Test
    void aGapPerTopicWhenRetentionPassedTheCursor() {
        for (int i = 1; i <= 3; i++) {
            publish(server, "s4.a", "a" + i);
        }
        HttpClientSse first = sse("topic=s4.a&topic=s4.b&from=earliest");
        await().atMost(WAIT).until(() -> first.messages().size() == 3);
        String afterA1 = first.messages().getFirst().id();
        first.close();
        publish(server, "s4.b", "b1");
        for (int i = 4; i <= 6; i++) {
            publish(server, "s4.a", "a" + i);
        }
        StreamFixtures.setRetention(server, "s4.a", "{\"maxMessages\":2}");

        HttpClientSse resumed = sse("topic=s4.a&topic=s4.b", "Last-Event-ID", afterA1);
        await().atMost(WAIT).until(() -> resumed.messages().size() == 3);
        assertThat(seen(resumed)).containsExactlyInAnyOrder(new Seen("s4.a", 5, "a5"), new Seen("s4.a", 6, "a6"),
                new Seen("s4.b", 1, "b1"));
        List<Event> gaps = resumed.events.stream().filter(e -> e.type().equals("gap")).toList();
        assertThat(gaps).hasSize(1);
        JsonNode gap = json(gaps.getFirst().data());
        assertThat(gap.path("topic").asText()).isEqualTo("s4.a");
        assertThat(gap.path("from").asLong()).isEqualTo(2);
        assertThat(gap.path("first").asLong()).isEqualTo(5);
    }

    @Test
    void aDeletedTopicIsToldAndFollowedAgainWhileTheStreamGoesOn() {
        publish(server, "d1.a", "a1");
        publish(server, "d1.p.x", "x1");
        HttpClientSse c = sse("topic=d1.a&topic=d1.p.*&from=earliest");
        await().atMost(WAIT).until(() -> c.messages().size() == 2);
        for (String topic : List.of("d1.a", "d1.p.x")) {
            assertThat(server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic)).DELETE().build())
                    .statusCode()).isEqualTo(204);
        }
        await().atMost(WAIT).until(() -> c.events.stream().filter(e -> e.type().equals("error")).count() == 2);
        assertThat(c.events.stream().filter(e -> e.type().equals("error")).map(e -> json(e.data())))
                .allSatisfy(error -> assertThat(error.path("code").asText()).isEqualTo("topic_deleted"))
                .extracting(error -> error.path("topic").asText()).containsExactlyInAnyOrder("d1.a", "d1.p.x");

        publish(server, "d1.p.x", "x again");
        publish(server, "d1.a", "a again");
        await().atMost(WAIT).until(() -> c.messages().size() == 4);
        assertThat(seen(c).subList(2, 4)).containsExactlyInAnyOrder(new Seen("d1.p.x", 1, "x again"),
                new Seen("d1.a", 1, "a again"));
        assertThat(c.ended()).isFalse();
    }

    @Test
    void longPollOverManyTopicsWalksEveryTopicOnceByItsCursor() {
        publish(server, "p1.a", "a1");
        publish(server, "p1.a", "a2");
        publish(server, "p1.r.x", "x1");
        JsonNode first = poll("topic=p1.a&topic=p1.r.*&limit=2");
        assertThat(first.path("messages")).hasSize(2);
        List<Seen> got = new ArrayList<>(envelopes(first));
        String cursor = first.path("cursor").asText();

        JsonNode second = poll("topic=p1.a&topic=p1.r.*&cursor=" + cursor);
        got.addAll(envelopes(second));
        assertThat(got).containsExactlyInAnyOrder(new Seen("p1.a", 1, "a1"), new Seen("p1.a", 2, "a2"),
                new Seen("p1.r.x", 1, "x1"));
        assertPerTopicOrder(got);
        assertThat(second.path("gaps")).isEmpty();

        // Nothing new: an empty answer at once without a wait, the cursor where it was.
        cursor = second.path("cursor").asText();
        JsonNode empty = poll("topic=p1.a&topic=p1.r.*&cursor=" + cursor);
        assertThat(empty.path("messages")).isEmpty();
        assertThat(empty.path("cursor").asText()).isEqualTo(cursor);
    }

    /** An answer that comes from a named topic still carries the pattern's topics' positions: none is read twice. */
    @Test
    void anAnswerFromANamedTopicKeepsThePatternsPositions() {
        publish(server, "p3.r.x", "x1");
        JsonNode first = poll("topic=p3.a&topic=p3.r.*");
        assertThat(envelopes(first)).containsExactly(new Seen("p3.r.x", 1, "x1"));
        for (String wait : List.of("", "&wait=5s")) {
            publish(server, "p3.a", "a" + wait);
            JsonNode fromNamed = poll("topic=p3.a&topic=p3.r.*" + wait + "&cursor=" + first.path("cursor").asText());
            assertThat(envelopes(fromNamed)).extracting(Seen::topic).containsOnly("p3.a");
            first = fromNamed;
        }
        JsonNode after = poll("topic=p3.a&topic=p3.r.*&cursor=" + first.path("cursor").asText());
        assertThat(after.path("messages")).as("nothing new: x1 must not come again").isEmpty();
    }

    @Test
    void aHeldLongPollAnswersWithTheFirstMessageOfAnyTopicAlsoOneCreatedDuringTheWait() throws Exception {
        publish(server, "p2.a", "a1");
        JsonNode caughtUp = poll("topic=p2.a&topic=p2.r.*");
        String cursor = caughtUp.path("cursor").asText();

        CompletableFuture<HttpResponse<String>> held = server.http().sendAsync(request(
                "topic=p2.a&topic=p2.r.*&wait=30s&cursor=" + cursor), HttpResponse.BodyHandlers.ofString());
        await().atMost(WAIT).until(() -> longPolls() >= 1);
        assertThat(held).isNotDone();
        publish(server, "p2.r.new", "created while held");
        HttpResponse<String> answer = held.get(10, TimeUnit.SECONDS);
        assertThat(answer.statusCode()).isEqualTo(200);
        JsonNode body = json(answer.body());
        assertThat(envelopes(body)).containsExactly(new Seen("p2.r.new", 1, "created while held"));

        // A wait that ends with nothing: an empty answer whose cursor resumes where the last one left off.
        JsonNode quiet = poll("topic=p2.a&topic=p2.r.*&wait=200ms&cursor=" + body.path("cursor").asText());
        assertThat(quiet.path("messages")).isEmpty();
        publish(server, "p2.a", "a2");
        JsonNode next = poll("topic=p2.a&topic=p2.r.*&cursor=" + quiet.path("cursor").asText());
        assertThat(envelopes(next)).containsExactly(new Seen("p2.a", 2, "a2"));
    }

    @Test
    void refusedRequestsChangeNothing() {
        int topicsBefore = json(server.get("/v1/topics").body()).path("topics").size();
        String tooMany = IntStream.rangeClosed(1, 65).mapToObj(i -> "topic=r.t" + i).collect(Collectors.joining("&"));
        String longNames = IntStream.rangeClosed(1, 40).mapToObj(i -> "topic=r." + ("n" + i).repeat(40))
                .collect(Collectors.joining("&"));
        Map<String, String> refusals = Map.of(
                "", "invalid_topic",
                "topic=r.a..b", "invalid_topic",
                "topic=r.%3E.b", "invalid_topic",
                "topic=r.a%2Fb", "invalid_topic",
                "topic=r.a&from=later", "invalid_from",
                tooMany, "limit_exceeded",
                longNames, "limit_exceeded");
        for (Map.Entry<String, String> r : refusals.entrySet()) {
            for (String path : List.of("/v1/messages?", "/v1/events?")) {
                HttpResponse<String> res = server.get(path + r.getKey());
                assertThat(res.statusCode()).as("%s%s: %s", path, r.getKey(), res.body())
                        .isEqualTo(r.getValue().equals("limit_exceeded") ? 429 : 400);
                assertThat(json(res.body()).path("error").path("code").asText()).isEqualTo(r.getValue());
            }
        }
        // Cursors the server never issues: not base64url, an unknown version, a prefix longer than the previous name,
        // a name without its offset, names out of order, too long.
        for (String cursor : List.of("!!!", "AgA", "AQMDYWJj", "AQADYWJj", "AQABYgIAAWEC",
                "AQ" + "A".repeat(StreamCursor.MAX_CHARS))) {
            HttpResponse<String> polled = server.get("/v1/messages?topic=r.a&cursor=" + cursor);
            HttpResponse<String> streamed = server.send(HttpRequest.newBuilder(server.uri("/v1/events?topic=r.a"))
                    .header("Last-Event-ID", cursor).GET().build());
            for (HttpResponse<String> res : List.of(polled, streamed)) {
                assertThat(res.statusCode()).as("cursor %s: %s", cursor, res.body()).isEqualTo(400);
                assertThat(json(res.body()).path("error").path("code").asText()).isEqualTo("invalid_from");
            }
        }
        HttpResponse<String> badLimit = server.get("/v1/messages?topic=r.a&limit=0");
        assertThat(json(badLimit.body()).path("error").path("code").asText()).isEqualTo("invalid_limit");
        assertThat(json(server.get("/v1/topics").body()).path("topics").size()).isEqualTo(topicsBefore);
    }

    /**
     * 16 topics of 204-character names under one pattern: their cursor could outgrow its bound past 14 of them. The
     * SSE stream follows 14 and names each topic it leaves out in an error event; the long poll is refused.
     */
    @Test
    void aPatternOverMoreTopicsThanTheCursorCanHoldIsToldNotSilent() {
        List<String> topics = IntStream.range(0, 16).mapToObj(i -> "lim." + (char) ('a' + i) + "x".repeat(199))
                .toList();
        topics.forEach(t -> publish(server, t, "first of " + t.charAt(4)));
        HttpClientSse c = sse("topic=lim.*&from=earliest");
        await().atMost(WAIT).until(() -> c.messages().size() == 14
                && c.events.stream().filter(e -> e.type().equals("error")).count() == 2);
        List<JsonNode> errors = c.events.stream().filter(e -> e.type().equals("error")).map(e -> json(e.data()))
                .toList();
        assertThat(errors).allSatisfy(e -> assertThat(e.path("code").asText()).isEqualTo("limit_exceeded"));
        List<String> followed = seen(c).stream().map(Seen::topic).toList();
        List<String> refused = errors.stream().map(e -> e.path("topic").asText()).toList();
        assertThat(followed).doesNotContainAnyElementsOf(refused);
        assertThat(Stream.concat(followed.stream(), refused.stream())).containsExactlyInAnyOrderElementsOf(topics);
        assertThat(c.messages().getLast().id().length()).isLessThanOrEqualTo(StreamCursor.MAX_CHARS);

        HttpResponse<String> polled = server.get("/v1/messages?topic=lim.*");
        assertThat(polled.statusCode()).as(polled.body()).isEqualTo(429);
        assertThat(json(polled.body()).path("error").path("code").asText()).isEqualTo("limit_exceeded");
    }

    @Test
    void aPatternNeedsARightCoveringEverythingItCanMatch() {
        Tokens tokens = Tokens.hs256InTempDir();
        try (TestServer secured = newServer(c -> c.withAuth(tokens.config()))) {
            String token = tokens.sign(Tokens.claims("alice", Tokens.rights(List.of("chat.>"),
                    List.of("chat.>", "news.sport"), List.of(), List.of(), false)));
            for (String allowed : List.of("topic=chat.*", "topic=chat.%3E&topic=news.sport", "topic=chat.room.%3E")) {
                HttpResponse<String> res = secured.send(HttpRequest.newBuilder(secured.uri("/v1/messages?" + allowed))
                        .header("Authorization", "Bearer " + token).GET().build());
                assertThat(res.statusCode()).as("%s: %s", allowed, res.body()).isEqualTo(200);
            }
            for (String forbidden : List.of("topic=*.room", "topic=%3E", "topic=news.*", "topic=chat.a&topic=news.x")) {
                for (String path : List.of("/v1/messages?", "/v1/events?")) {
                    HttpResponse<String> res = secured.send(HttpRequest.newBuilder(secured.uri(path + forbidden))
                            .header("Authorization", "Bearer " + token).GET().build());
                    assertThat(res.statusCode()).as("%s%s: %s", path, forbidden, res.body()).isEqualTo(403);
                    assertThat(json(res.body()).path("error").path("code").asText()).isEqualTo("forbidden");
                }
            }
        }
    }

    private double longPolls() {
        return PrometheusText.parse(server.get("/metrics").body()).value("switchboard_long_polls");
    }

    private HttpRequest request(String query) {
        return HttpRequest.newBuilder(server.uri("/v1/messages?" + query)).timeout(Duration.ofSeconds(40)).GET()
                .build();
    }

    private JsonNode poll(String query) {
        HttpResponse<String> res = server.send(request(query));
        assertThat(res.statusCode()).as("%s: %s", query, res.body()).isEqualTo(200);
        return json(res.body());
    }

    private static List<Seen> envelopes(JsonNode answer) {
        List<Seen> out = new ArrayList<>();
        for (JsonNode m : answer.path("messages")) {
            out.add(new Seen(m.path("topic").asText(), m.path("offset").asLong(), m.path("data").asText()));
        }
        return out;
    }

    private static void assertPerTopicOrder(List<Seen> seen) {
        Map<String, List<Long>> byTopic = seen.stream().collect(Collectors.groupingBy(Seen::topic,
                Collectors.mapping(Seen::offset, Collectors.toList())));
        byTopic.forEach((topic, offsets) -> assertThat(offsets).as("offsets of %s", topic).isSorted());
    }
}
