package dev.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench groups}: consumer-group throughput. A topic is filled with {@code messages} messages first; then, for
 * each member count, a fresh group's members (virtual threads, closed loop) fetch up to {@code batch} messages and
 * acknowledge them, until the group has acknowledged every message: messages/s is that count over the time it took.
 * With a Redis URI the same runs drive a Redis stream directly, {@code XREADGROUP} and {@code XACK} over RESP, so
 * both figures come from one run on one machine.
 */
public final class GroupsBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PUBLISH_BATCH = 1000;

    /**
     * The knobs of one run.
     *
     * @param membersOn the nodes the members are spread over (nodes of one cluster on a shared engine)
     * @param redis     null, or the Redis whose streams are driven the same way
     */
    public record Config(URI server, List<URI> membersOn, URI redis, List<Integer> members, int messages, int batch,
                         int size) {}

    /** One group's run: how many members acknowledged how many messages in how long. */
    public record Run(String target, int members, long messages, double seconds, double messagesPerSecond) {}

    public record Report(int messages, int batch, int size, List<Run> runs, BenchReport.Errors errors,
                         List<String> errorSamples) implements BenchReport.Counted {
        @Override
        public String toText() {
            StringBuilder t = new StringBuilder(String.format(Locale.ROOT,
                    "groups      %,d messages of %d bytes, fetched %d at a time%n", messages, size, batch));
            for (Run r : runs) {
                t.append(String.format(Locale.ROOT, "%-11s %2d members  %,12.0f messages/s  (%,d in %.2f s)%n",
                        r.target(), r.members(), r.messagesPerSecond(), r.messages(), r.seconds()));
            }
            return text(t.toString());
        }
    }

    private final Config config;
    private final PrintWriter progress;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicLong errors = new AtomicLong();
    private final List<String> errorSamples = Collections.synchronizedList(new ArrayList<>());
    private final String topic = "bench-groups." + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);

    public GroupsBenchmark(Config config, PrintWriter progress) {
        this.config = config;
        this.progress = progress;
    }

    public Report run() throws Exception {
        List<Run> runs = new ArrayList<>();
        fillSwitchboard();
        for (int members : config.members()) {
            runs.add(measure("switchboard", members, m -> switchboardMember(members, m)));
        }
        if (config.redis() != null) {
            fillRedis();
            for (int members : config.members()) {
                runs.add(measure("redis", members, m -> redisMember(members, m)));
            }
        }
        http.close();
        return new Report(config.messages(), config.batch(), config.size(), runs,
                new BenchReport.Errors(errors.get()), List.copyOf(errorSamples));
    }

    /** A member's loop: acknowledges until the group has no more to hand it; answers how many it acknowledged. */
    private interface Member {
        long consume(int index) throws Exception;
    }

    private Run measure(String target, int members, Member member) throws InterruptedException {
        progress.printf(Locale.ROOT, "%s: %d members%n", target, members);
        progress.flush();
        AtomicLong acked = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < members; i++) {
            int index = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    acked.addAndGet(member.consume(index));
                } catch (Exception e) {
                    error(target + " member " + index + ": " + e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (acked.get() != config.messages()) {
            error(target + " with " + members + " members acknowledged " + acked.get() + " of " + config.messages());
        }
        return new Run(target, members, acked.get(), seconds, acked.get() / seconds);
    }

    private void error(String sample) {
        errors.incrementAndGet();
        if (errorSamples.size() < 10) {
            errorSamples.add(sample);
        }
    }

    // ---- Switchboard: the HTTP group API

    private void fillSwitchboard() throws Exception {
        String line = "\"" + "x".repeat(Math.max(0, config.size() - 2)) + "\"\n";
        for (int sent = 0; sent < config.messages(); sent += PUBLISH_BATCH) {
            String body = line.repeat(Math.min(PUBLISH_BATCH, config.messages() - sent));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(config.server().resolve("/v1/topics/" + topic
                            + "/batch")).header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                throw new IllegalStateException("publishing the messages failed: " + r.statusCode() + " " + r.body());
            }
        }
    }

    private long switchboardMember(int members, int index) throws Exception {
        String group = "/v1/topics/" + topic + "/groups/g" + members;
        String member = "?member=m" + index;
        URI node = config.membersOn().get(index % config.membersOn().size());
        long acked = 0;
        while (true) {
            HttpResponse<byte[]> fetched = post(node, group + "/fetch" + member + "&max=" + config.batch(), null);
            JsonNode messages = JSON.readTree(fetched.body()).path("messages");
            if (fetched.statusCode() != 200 || messages.isEmpty()) {
                if (fetched.statusCode() != 200) {
                    error("fetch answered " + fetched.statusCode());
                }
                return acked;
            }
            StringBuilder offsets = new StringBuilder("{\"offsets\":[");
            for (int i = 0; i < messages.size(); i++) {
                offsets.append(i == 0 ? "" : ",").append(messages.get(i).get("offset").asLong());
            }
            HttpResponse<byte[]> ack = post(node, group + "/ack" + member, offsets.append("]}").toString());
            if (ack.statusCode() != 200) {
                error("ack answered " + ack.statusCode());
                return acked;
            }
            acked += JSON.readTree(ack.body()).path("acked").size();
        }
    }

    private HttpResponse<byte[]> post(URI node, String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(node.resolve(path)).header("Content-Type", "application/json")
                .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    // ---- Redis: a stream with XREADGROUP and XACK, as its users drive it

    private void fillRedis() {
        byte[] payload = "x".repeat(config.size()).getBytes(StandardCharsets.US_ASCII);
        try (RespConnection redis = new RespConnection(config.redis())) {
            for (int i = 0; i < config.messages(); i++) {
                Object id = redis.call("XADD", topic, "*", "p", payload);
                if (!(id instanceof byte[])) {
                    throw new IllegalStateException("XADD answered " + id);
                }
            }
            for (int members : config.members()) {
                Object ok = redis.call("XGROUP", "CREATE", topic, "g" + members, "0");
                if (!"OK".equals(ok)) {
                    throw new IllegalStateException("XGROUP CREATE answered " + ok);
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private long redisMember(int members, int index) {
        long acked = 0;
        try (RespConnection redis = new RespConnection(config.redis())) {
            while (true) {
                Object reply = redis.call("XREADGROUP", "GROUP", "g" + members, "m" + index, "COUNT", config.batch(),
                        "STREAMS", topic, ">");
                if (reply == RespDecoder.NULL) {
                    return acked;
                }
                if (!(reply instanceof List<?> streams)) {
                    error("XREADGROUP answered " + reply);
                    return acked;
                }
                List<Object> entries = (List<Object>) ((List<Object>) streams.get(0)).get(1);
                List<Object> ack = new ArrayList<>(List.of("XACK", topic, "g" + members));
                for (Object entry : entries) {
                    ack.add(((List<Object>) entry).get(0));
                }
                Object n = redis.call(ack.toArray());
                if (!(n instanceof Long count)) {
                    error("XACK answered " + n);
                    return acked;
                }
                acked += count;
            }
        }
    }
}
