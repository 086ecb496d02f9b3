package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.SseParser;
import dev.switchboard.testing.TestServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code Switchboard-Hold}: an upstream (upstream.py) answers in an instant and forgets its clients; Switchboard holds
 * them on its own SSE and poll endpoints. 1,000 held streams over real sockets (Netty clients) receive every later
 * publish in order while the upstream sees only the pool's few connections; a stream resumes with Last-Event-ID; a
 * long poll is answered with the poll JSON.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarHoldTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECTIONS_PER_LOOP = 4;
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static UpstreamApp app;
    private static TestServer server;
    private static EventLoopGroup clients;

    @BeforeAll
    static void start() {
        app = UpstreamApp.start();
        server = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", app.url())))
                .withConnectionsPerLoop(CONNECTIONS_PER_LOOP), c -> c);
        clients = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        server.close();
        app.close();
    }

    /** One SSE client on a Netty connection: what it was answered and, in order, the comments and events it read. */
    private static final class Held extends SimpleChannelInboundHandler<HttpObject> {
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<SseParser.Event> events = new CopyOnWriteArrayList<>();
        final SseParser parser = new SseParser(e -> {
            events.add(e);
            seen.add("event " + e.id());
        }, c -> seen.add("comment " + c.trim()));
        volatile int status;
        volatile String contentType;
        Channel channel;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                contentType = r.headers().get(HttpHeaderNames.CONTENT_TYPE);
                status = r.status().code();
            }
            if (msg instanceof HttpContent c) {
                parser.feed(ByteBufUtil.getBytes(c.content()));
            }
        }

        /** The events' data: a text message's payload as published. */
        List<String> data() {
            return events.stream().map(SseParser.Event::data).toList();
        }
    }

    private static Held open(String path, String lastEventId) {
        Held held = new Held();
        Channel ch = new Bootstrap().group(clients).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        c.pipeline().addLast(new HttpClientCodec(), held);
                    }
                }).connect("127.0.0.1", server.port()).syncUninterruptibly().channel();
        held.channel = ch;
        FullHttpRequest get = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        get.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + server.port())
                .set(HttpHeaderNames.ACCEPT, "text/event-stream");
        if (lastEventId != null) {
            get.headers().set("Last-Event-ID", lastEventId);
        }
        ch.writeAndFlush(get);
        return held;
    }

    private static long publish(String topic, String text) throws Exception {
        var r = http.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(text)).build(),
                BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).path("offset").asLong();
    }

    private static JsonNode subscribers(String topic) throws Exception {
        var r = http.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic)).build(), BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("subscribers");
    }

    private static int upstreamConnections() throws Exception {
        var r = http.send(HttpRequest.newBuilder(app.uri("/connections")).build(), BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("open").asInt() - 1; // not this request's own
    }

    @Test
    void aThousandHeldStreamsReceiveEveryLaterPublishInOrderOverThePoolsFewConnections() throws Exception {
        String topic = "held.fanout";
        publish(topic, "before");
        List<Held> held = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            held.add(open("/hold/stream?topic=" + topic, null));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> subscribers(topic).path("sse").asInt() == 1000);
        int poolSize = CONNECTIONS_PER_LOOP * server.server().config().ioThreads();
        assertThat(upstreamConnections()).as("the upstream held nobody; it saw the pool only")
                .isBetween(1, poolSize);
        List<String> expected = new ArrayList<>();
        for (int m = 1; m <= 20; m++) {
            expected.add("m" + m);
            publish(topic, "m" + m);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> held.stream().allMatch(h -> h.events.size() >= 20));
        for (Held h : held) {
            assertThat(h.status).isEqualTo(200);
            assertThat(h.contentType).startsWith("text/event-stream");
            assertThat(h.data()).as("every message, in order, none lost, none twice").isEqualTo(expected);
            assertThat(h.seen.getFirst()).as("the upstream's body comes first").isEqualTo("comment welcome from python");
            assertThat(h.events.stream().map(e -> Long.parseLong(e.id())).toList())
                    .isEqualTo(java.util.stream.LongStream.rangeClosed(2, 21).boxed().toList());
        }
        assertThat(upstreamConnections()).isBetween(1, poolSize);
        held.forEach(h -> h.channel.close());
    }

    @Test
    void aHeldClientComingBackWithLastEventIdResumes() throws Exception {
        String topic = "held.resume";
        publish(topic, "r1");
        Held first = open("/hold/stream?topic=" + topic, null);
        await().atMost(Duration.ofSeconds(20)).until(() -> subscribers(topic).path("sse").asInt() == 1);
        long seen = publish(topic, "r2");
        await().atMost(Duration.ofSeconds(20)).until(() -> first.events.size() == 1);
        first.channel.close().syncUninterruptibly();
        publish(topic, "r3");
        publish(topic, "r4");
        // the upstream still says from=next; the client's Last-Event-ID + 1 wins
        Held back = open("/hold/stream?topic=" + topic, Long.toString(seen));
        await().atMost(Duration.ofSeconds(20)).until(() -> back.events.size() == 2);
        assertThat(back.data()).containsExactly("r3", "r4");
        publish(topic, "r5");
        await().atMost(Duration.ofSeconds(20)).until(() -> back.events.size() == 3);
        assertThat(back.data()).containsExactly("r3", "r4", "r5");
        back.channel.close();
    }

    @Test
    void aHeldLongPollIsAnsweredWithThePollJson() throws Exception {
        String topic = "held.poll";
        publish(topic, "p1");
        CompletableFuture<java.net.http.HttpResponse<String>> poll = http.sendAsync(HttpRequest.newBuilder(
                server.uri("/hold/poll?topic=" + topic)).build(), BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(20)).until(() -> subscribers(topic).path("longpoll").asInt() == 1);
        publish(topic, "p2");
        var r = poll.get(20, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("topic").asText()).isEqualTo(topic);
        assertThat(body.path("messages")).hasSize(1);
        assertThat(body.path("messages").get(0).path("data").asText()).isEqualTo("p2");
        assertThat(body.path("next").asLong()).isEqualTo(3);

        long started = System.nanoTime();
        var empty = http.send(HttpRequest.newBuilder(server.uri("/hold/poll?topic=" + topic + "&timeout=1s"))
                .build(), BodyHandlers.ofString());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(JSON.readTree(empty.body()).path("messages")).isEmpty();
    }

    @Test
    void anInvalidHoldIsA502NamingTheFault() throws Exception {
        var r = http.send(HttpRequest.newBuilder(server.uri("/hold/stream?topic=bad..name")).build(),
                BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(502);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("upstream_invalid");
        assertThat(error.path("message").asText()).contains("Switchboard-Hold");
        var tooLong = http.send(HttpRequest.newBuilder(server.uri("/hold/poll?topic=t&timeout=1h")).build(),
                BodyHandlers.ofString());
        assertThat(tooLong.statusCode()).isEqualTo(502);
        assertThat(tooLong.body()).contains("--max-wait");
    }
}
