package dev.switchboard.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A Switchboard client: topics (publish, fetch, poll, subscribe) and jobs (submit, call, workers) over the HTTP and
 * WebSocket API of docs/api.md. Connect with {@link #connect(String...)} or {@link #connect(SwitchboardOptions)}.
 *
 * <h2>Blocking or asynchronous</h2>
 * Every request has a blocking form, which returns the answer or throws a {@link SwitchboardException} (natural on
 * virtual threads), and an {@code …Async} form, whose {@link CompletableFuture} completes with the answer or
 * exceptionally with the same exception. Arguments are checked before anything is sent, by the API's rules: a bad
 * one throws {@link InvalidRequestException} with the code the server would answer (an invalid topic name is
 * {@code invalid_topic}), a missing one {@link NullPointerException}, from the call itself, also in the async forms;
 * the options' builders throw {@link IllegalArgumentException}.
 *
 * <h2>Failures and failover</h2>
 * A request goes to the server URL that last answered; one that cannot connect goes on to the next URL, each tried
 * once, before failing with a {@link ConnectionException}. Requests that are safe to repeat (reads, and publishes and
 * submits with an idempotency key) are also retried on a lost connection and on {@code 503} with backoff and jitter
 * for {@link SwitchboardOptions.Builder#retryFor} (30 s); others are not, because the server may have stored them.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>The client is thread-safe: share one per application. It holds one JDK {@link java.net.http.HttpClient}
 *       whose threads complete the async forms, so do not block in their callbacks ({@code thenApply} and so on);
 *       use the {@code …Async} methods of {@code CompletableFuture} with your own executor for slow work.</li>
 *   <li>Each {@link Subscription} has two daemon threads of its own: a reader that holds the connection and
 *       fills a bounded buffer, and a delivery thread that calls the {@link MessageHandler} one message at a time,
 *       in offset order. A slow handler fills the buffer, then the reader stops reading and the server's TCP window
 *       closes: the stream slows down, memory does not grow.</li>
 *   <li>Each {@link Worker} has one thread per unit of concurrency, each running one {@link JobHandler} call at a
 *       time, and one scheduler thread for heartbeats and progress.</li>
 *   <li>A {@link JobHandle#await} (and a {@link #call} whose job outlasts the server's wait) follows the job's event
 *       topic with a subscription, so it holds that subscription's two threads while it waits.</li>
 *   <li>{@link ConnectionListener} methods run on whichever thread noticed the event; keep them short.</li>
 * </ul>
 *
 * <p>{@link #close()} closes the subscriptions and workers this client made, then its HTTP client.
 */
public interface Switchboard extends AutoCloseable {

    /** A client of the servers at {@code urls} (several: nodes of one server to fail over between), default options. */
    static Switchboard connect(String... urls) {
        return connect(SwitchboardOptions.builder().servers(java.util.List.of(urls)).build());
    }

    static Switchboard connect(SwitchboardOptions options) {
        return new Client(options);
    }

    // ---- Topics

    /** Publishes UTF-8 text ({@code text/plain; charset=utf-8}). */
    Published publish(String topic, String text);

    /** Publishes a JSON value (checked here: one valid JSON value, else {@link InvalidRequestException}). */
    Published publishJson(String topic, String json);

    /**
     * Publishes bytes of a content type, with an optional idempotency key (1-255 chars, or null): a publish retried
     * with the same key stores its message once and answers with the first offset ({@link Published#replayed()}).
     * With a key, a lost connection or a {@code 503} is retried until the request timeout; without one it is not.
     */
    Published publish(String topic, byte[] data, String type, String idempotencyKey);

    /**
     * {@link #publish(String, byte[], String, String)} with message headers (name → values; empty for none), which
     * every reader gets with the message ({@link Message#headers()}, NATS subscribers as HMSG headers). Names are HTTP
     * tokens, values printable ASCII or tab (this client sends them as HTTP header values, which the JDK's client
     * writes as ASCII), within the limits of docs/api.md; else {@link InvalidRequestException} {@code invalid_headers}.
     */
    Published publish(String topic, byte[] data, String type, String idempotencyKey,
                      Map<String, List<String>> headers);

    CompletableFuture<Published> publishAsync(String topic, String text);

    CompletableFuture<Published> publishAsync(String topic, byte[] data, String type, String idempotencyKey);

    CompletableFuture<Published> publishAsync(String topic, byte[] data, String type, String idempotencyKey,
                                              Map<String, List<String>> headers);

    /** Up to {@code limit} (1-1000) messages from {@code from}, at once (a short poll); unknown topic: not found. */
    Page fetch(String topic, From from, int limit);

    CompletableFuture<Page> fetchAsync(String topic, From from, int limit);

    /**
     * A long poll: answers as soon as a message at or after {@code from} exists, or with an empty page after
     * {@code wait} (1 ms to 5 min). Waits for a topic that does not exist yet.
     */
    Page poll(String topic, From from, int limit, Duration wait);

    CompletableFuture<Page> pollAsync(String topic, From from, int limit, Duration wait);

    /** {@link #subscribe(String, From, SubscribeOptions, MessageHandler)} over WebSocket with default options. */
    Subscription subscribe(String topic, From from, MessageHandler handler);

    /**
     * Starts a subscription: the handler gets each message from {@code from} on, exactly once and in order, across
     * reconnects and failovers, with gaps (messages dropped by retention before they were read) reported to
     * {@link SubscribeOptions.Builder#onGap} and the {@link ConnectionListener}. Returns at once; the first
     * connection is made in the background. {@code from=next} is pinned to an offset on the first connection, so a
     * reconnect never skips what was published meanwhile.
     *
     * <p>{@code topic} may be a pattern ({@code chat.*}: {@code *} one segment, {@code >} the rest), over WebSocket
     * from {@code next} or {@code earliest}: the handler gets the messages of every topic it matches, those created
     * later from their first message, each topic once and in order across reconnects ({@link Message#topic()} says
     * which). A topic the server refuses to follow at its limits is left out.
     */
    Subscription subscribe(String topic, From from, SubscribeOptions options, MessageHandler handler);

    // ---- Consumer groups (docs/groups.md)

    /**
     * A member of consumer group {@code group} on {@code topic}, named {@code member} (1-64 chars of
     * {@code [A-Za-z0-9_.-]}), for fetching and acknowledging by hand. Nothing is sent until it is used.
     */
    GroupMember groupMember(String topic, String group, String member);

    /**
     * Joins consumer group {@code group} on {@code topic} as a new member: the handler gets, one at a time, the
     * messages the group hands this member (no other member holds them), each acknowledged when the handler returns.
     * Messages are at least once: a message whose handler threw (that ends the subscription), or that was in hand
     * when the member went away, is delivered again, to any member, after the server's ack timeout. A group's
     * messages go out in offset order, but members run in parallel and a redelivery comes late.
     */
    Subscription subscribe(String topic, String group, MessageHandler handler);

    // ---- Jobs

    /** Submits a job with an optional idempotency key (a retry with it returns the same job). */
    JobHandle submit(String queue, byte[] payload, String type, String idempotencyKey);

    CompletableFuture<JobHandle> submitAsync(String queue, byte[] payload, String type, String idempotencyKey);

    /** A handle on an existing job, by id; nothing is sent until it is used. */
    JobHandle job(String id);

    /**
     * Request/reply: submits a job and waits up to {@code timeout} for it to finish. Returns the succeeded job with its
     * whole result; throws {@link JobFailedException} if it failed or was cancelled, {@link JobTimeoutException} if
     * it is still queued or running then.
     */
    Job call(String queue, byte[] payload, String type, Duration timeout);

    CompletableFuture<Job> callAsync(String queue, byte[] payload, String type, Duration timeout);

    /** {@link #worker(String, WorkerOptions, JobHandler)} with default options. */
    Worker worker(String queue, JobHandler handler);

    /** Starts a worker on {@code queue}; it runs until closed. */
    Worker worker(String queue, WorkerOptions options, JobHandler handler);

    /** Closes the subscriptions and workers of this client, then its connections. Idempotent. */
    @Override
    void close();
}
