package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import dev.switchboard.testing.Slow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs across nodes (docs/cluster.md, "Jobs across nodes"): a job submitted on node 1 is claimed on node 2 by a
 * worker process; the worker and node 2 are killed ({@code kill -9}), so neither the lease's worker nor the node that
 * granted it survives; the lease expires by Redis's clock and node 3 claims the job again under a new fencing token;
 * the first worker's late {@code complete} is refused with {@code 409 lease_lost}. Real node processes, a real
 * redis-server.
 */
@Slow
@Timeout(120)
class RedisJobsAcrossNodesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String QUEUE = "across";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private RedisNodes nodes;
    private Process worker;

    /** The worker to kill: {@code NODE_URL QUEUE}; claims one job, prints {@code claimed <claim JSON>}, then hangs. */
    public static void main(String[] args) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> claim = client.send(HttpRequest.newBuilder(URI.create(args[0] + "/v1/queues/"
                    + args[1] + "/claim?lease=2s&wait=30s")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.println("claimed " + claim.body());
            System.out.flush();
            new CountDownLatch(1).await();
        }
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        if (worker != null) {
            worker.destroyForcibly();
            worker.waitFor(30, TimeUnit.SECONDS);
        }
        http.close();
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void aLeaseExpiresByRedisTimeWithItsWorkerAndNodeGoneAndTheLateWorkerIsFencedOff() throws Exception {
        nodes = new RedisNodes(dir, 3);
        HttpResponse<String> submitted = post(nodes.url(0), "/v1/queues/" + QUEUE + "/jobs", null, "payload");
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
        String id = JSON.readTree(submitted.body()).get("id").asText();

        JsonNode first = claimInAWorkerProcess(nodes.url(1));
        assertThat(first.get("id").asText()).isEqualTo(id);
        assertThat(first.get("attempt").asInt()).isEqualTo(1);
        worker.destroyForcibly(); // kill -9 of the worker mid-job…
        worker.waitFor(30, TimeUnit.SECONDS);
        nodes.kill(1); // …and of the node that granted its lease

        // A claim held on node 3 gets the job once Redis's clock passes the lease: no node's memory held it.
        HttpResponse<String> again = post(nodes.url(2), "/v1/queues/" + QUEUE + "/claim?wait=30s", null, "");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        JsonNode second = JSON.readTree(again.body());
        assertThat(second.get("id").asText()).isEqualTo(id);
        assertThat(second.get("attempt").asInt()).isEqualTo(2);
        assertThat(second.get("error").asText()).contains("lease expired");
        assertThat(Instant.parse(second.get("updated").asText())).as("claimed again only after the lease expired")
                .isAfterOrEqualTo(Instant.parse(first.get("leaseExpires").asText()));
        String oldToken = first.get("lease").asText();
        String newToken = second.get("lease").asText();
        assertThat(fence(newToken)).as("fencing tokens grow").isGreaterThan(fence(oldToken));

        HttpResponse<String> late = post(nodes.url(0), "/v1/jobs/" + id + "/complete", oldToken, "zombie");
        assertThat(late.statusCode()).as(late.body()).isEqualTo(409);
        assertThat(JSON.readTree(late.body()).get("error").get("code").asText()).isEqualTo("lease_lost");

        HttpResponse<String> done = post(nodes.url(2), "/v1/jobs/" + id + "/complete", newToken, "done");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        JsonNode onNode1 = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(nodes.url(0) + "/v1/jobs/"
                + id)).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(onNode1.get("status").asText()).isEqualTo("succeeded");
        assertThat(onNode1.get("result").asText()).isEqualTo("done");
        assertThat(onNode1.get("attempt").asInt()).isEqualTo(2);
    }

    private JsonNode claimInAWorkerProcess(String node) throws IOException {
        worker = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), RedisJobsAcrossNodesTest.class.getName(), node, QUEUE))
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(worker.getInputStream(),
                StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("claimed ")) {
                return JSON.readTree(line.substring("claimed ".length()));
            }
        }
        throw new AssertionError("the worker exited without a claim");
    }

    /** The fencing number of a lease token: {@code <number>.<unguessable part>} (docs/cluster.md). */
    private static long fence(String token) {
        return Long.parseLong(token.substring(0, token.indexOf('.')));
    }

    private HttpResponse<String> post(String node, String path, String leaseToken, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node + path)).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (leaseToken != null) {
            b.header("Lease-Token", leaseToken);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
