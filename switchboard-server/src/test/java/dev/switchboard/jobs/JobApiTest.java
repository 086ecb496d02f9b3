package dev.switchboard.jobs;

import static java.util.concurrent.TimeUnit.SECONDS;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.TestServer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Every row of docs/api.md's Jobs table, black-box over real loopback sockets: the JDK HttpClient for plain calls, curl
 * processes for long polls and SSE, the JDK WebSocket client for the job's topic. One server for the class; each test
 * has its own queue. The tests are in the interfaces this class implements, one per part of the table, so that the
 * Redis subclasses start their server once for all of them.
 */
@Timeout(value = 60, unit = SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // a subclass chooses the server (newServer)
class JobApiTest implements JobFollowContract, JobQueueContract, JobTopicContract {
    private TestServer server;
    private JobHttp http;
    private String queue;

    @BeforeAll
    void startServer() {
        server = newServer(UnaryOperator.identity());
        http = new JobHttp(server.http(), server.url());
    }

    @AfterAll
    void stopServer() {
        server.close();
    }

    /** The server these tests run against: on the embedded engine here, on Redis in {@link RedisJobApiTest}. */
    TestServer newServer(UnaryOperator<ServerConfig> customize) {
        return TestServer.start(customize);
    }

    @BeforeEach
    void queueOfTest(TestInfo test) {
        queue = "api-" + test.getTestMethod().orElseThrow().getName();
    }

    @Override
    public TestServer server() {
        return server;
    }

    @Override
    public JobHttp http() {
        return http;
    }

    @Override
    public String queue() {
        return queue;
    }
}
