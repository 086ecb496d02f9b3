package dev.switchboard.codec.nats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.auth.Grants;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.codec.BurstWriter;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.fanout.SlowConsumerGuard;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.HeaderRules;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One NATS connection's protocol handler (docs/nats.md): it takes the decoded ops and writes the answers. A subject
 * is a topic: a PUB is a durable append, answered ({@code +OK} in verbose mode, and any PONG asked for after it) once
 * stored; a PUB to {@code _jobs.<queue>} is a {@link JobRequests job request}. SUB and UNSUB are kept by
 * {@link NatsSubscriptions}, whose cursors pause while the socket is full; full for longer than the slow-consumer
 * timeout, the connection is closed. Reply subjects and requests travel live through {@link LiveSubjects} instead,
 * never stored.
 *
 * <p>Threads: the connection's event loop.
 */
final class NatsSession extends ChannelInboundHandlerAdapter {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] SPACE = {' '};
    private static final byte[] MSG = {'M', 'S', 'G', ' '};
    private static final byte[] HMSG = {'H', 'M', 'S', 'G', ' '};
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PING = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PONG = "PONG\r\n".getBytes(StandardCharsets.US_ASCII);
    static final String INVALID_SUBJECT = "Invalid Subject";
    private static final int MAX_PUBLISHES_IN_FLIGHT = 256;

    private final NatsEndpoint endpoint;
    /**
     * For each PING asked while publishes (or {@link #awaitBeforePong awaited} work) were in flight: how many must be
     * answered before its PONG.
     */
    private final ArrayDeque<Long> pongsOwed = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private ConnectionStats stats;
    private BurstWriter burst;
    private NatsSubscriptions subscriptions;
    private JobRequests jobRequests;
    private SlowConsumerGuard slowGuard;
    private ScheduledFuture<?> pingTimer;
    private ScheduledFuture<?> deadline;
    private Grants grants;
    private boolean connected;
    private boolean verbose;
    private boolean echo = true;
    /** CONNECT said {@code headers:true}: messages with headers go out as HMSG. */
    private boolean takesHeaders;
    private boolean closing;
    private int pingsUnanswered;
    private long publishesSent;
    private long publishesAnswered;
    /** SUBs whose feed is opening ({@link #holdOps}); while any is, ops wait in {@link #waitingOps}. */
    private int heldBy;
    private final ArrayDeque<NatsOp> waitingOps = new ArrayDeque<>();

    NatsSession(NatsEndpoint endpoint) {
        this.endpoint = endpoint;
        this.grants = endpoint.authRequired ? Grants.NOBODY : Grants.ANYONE;
    }

    // ---- connection ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        stats = ConnectionStats.of(ctx.channel());
        stats.use(Transport.NATS);
        subscriptions = new NatsSubscriptions(endpoint, ctx, this);
        jobRequests = new JobRequests(endpoint, ctx, this);
        stats.subscriptions(subscriptions::views);
        burst = new BurstWriter(ctx);
        slowGuard = new SlowConsumerGuard(ctx.channel(), endpoint.limits.slowConsumerTimeout(),
                () -> fail("Slow Consumer"));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(endpoint.info(ctx.channel(), stats.id())));
        long every = endpoint.pingInterval.toNanos();
        pingTimer = ctx.executor().scheduleAtFixedRate(this::ping, every, every, TimeUnit.NANOSECONDS);
        if (endpoint.authRequired) {
            // As nats-server's auth timeout: a connection that never authenticates does not keep its slot.
            deadline = ctx.executor().schedule(() -> fail("Authentication Timeout"),
                    endpoint.limits.headerTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        super.channelActive(ctx);
    }

    /** Called by the connection limiter's refusal; see {@link NatsEndpoint#refuse}. */
    void refuse(String why) {
        ctx.executor().execute(() -> fail(why));
    }

    /** What this connection may publish and read; a CONNECT with a token replaces it. */
    Grants grants() {
        return grants;
    }

    /** False under no_echo: this connection's own publishes are not sent back to it. */
    boolean echo() {
        return echo;
    }

    /** The connection is closing: it takes on nothing more. */
    boolean isClosing() {
        return closing;
    }

    /**
     * A SUB's topic feed is opening (on a shared engine that waits on Redis, off the loop): the connection's later
     * ops wait, in order, so a PUB after a SUB reaches it and a PING's PONG says the SUB is live; reading pauses
     * meanwhile, which bounds them.
     */
    void holdOps() {
        heldBy++;
        ctx.channel().config().setAutoRead(false);
    }

    /** The feed {@link #holdOps} waited for is open (or refused): the waiting ops run, in order. */
    void releaseOps() {
        if (--heldBy > 0 || closing) {
            return;
        }
        if (publishesSent - publishesAnswered < MAX_PUBLISHES_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(true);
        }
        while (heldBy == 0 && !closing && !waitingOps.isEmpty()) {
            channelRead(ctx, waitingOps.poll());
        }
        burst.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing || !(msg instanceof NatsOp op)) {
            return;
        }
        if (heldBy > 0) {
            waitingOps.add(op);
            return;
        }
        pingsUnanswered = 0;
        try {
            if (endpoint.authRequired && !connected && !(op instanceof NatsOp.Connect)
                    && !(op instanceof NatsOp.Malformed)) {
                fail("Authorization Violation");
                return;
            }
            switch (op) {
                case NatsOp.Connect c -> connect(c.json());
                case NatsOp.Pub p -> publish(p);
                case NatsOp.Sub s -> subscriptions.subscribe(s);
                case NatsOp.Unsub u -> subscriptions.unsubscribe(u);
                case NatsOp.Ping p -> ping(p);
                case NatsOp.Pong p -> { }
                case NatsOp.Malformed m -> fail(m.reason());
            }
        } catch (ApiException e) {
            error(e.getMessage());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        burst.flush();
    }

    private void connect(String json) {
        JsonNode options;
        try {
            options = HttpResponses.MAPPER.readTree(json);
        } catch (IOException e) {
            options = null;
        }
        if (options == null || !options.isObject()) {
            fail("Parser Error: CONNECT takes a JSON object");
            return;
        }
        if (endpoint.authRequired) {
            JsonNode token = options.get("auth_token");
            try {
                grants = endpoint.authenticator.verify(token != null && token.isTextual() ? token.asText() : null);
            } catch (ApiException e) {
                fail("Authorization Violation");
                return;
            }
            if (deadline != null) {
                deadline.cancel(false);
                deadline = null;
            }
            if (grants.validUntil() != null) {
                long left = Duration.between(Instant.now(), grants.validUntil()).toNanos();
                deadline = ctx.executor().schedule(() -> fail("User Authentication Expired"), Math.max(0, left),
                        TimeUnit.NANOSECONDS);
            }
        }
        verbose = options.path("verbose").asBoolean(false);
        echo = options.path("echo").asBoolean(true);
        takesHeaders = options.path("headers").asBoolean(false);
        connected = true;
        ok();
    }

    // ---- publishing ----

    private void publish(NatsOp.Pub p) {
        String subject = p.subject();
        if (!TopicNames.isValid(subject) || (p.replyTo() != null && !TopicNames.isValid(p.replyTo()))) {
            error(INVALID_SUBJECT);
            return;
        }
        Map<String, List<String>> headers = MessageHeaders.NONE;
        if (p.headers() != null) {
            headers = NatsHeaders.parse(p.headers());
            if (headers == null) {
                error("Parser Error: an HPUB's headers start with NATS/1.0 and hold 'Name: value' lines");
                return;
            }
            HeaderRules.validate(headers); // live messages too, so every subscriber gets headers any transport takes
        }
        String jobQueue = JobRequests.queueOf(subject);
        if (jobQueue != null) {
            jobRequests.submit(grants, jobQueue, p.payload(), p.replyTo());
            ok();
            return;
        }
        if (p.replyTo() != null || endpoint.live.isReply(subject)) {
            if (!subject.startsWith("_INBOX.") && !grants.mayPublish(subject)) {
                error("Permissions Violation for Publish to \"" + subject + "\"");
                return;
            }
            endpoint.live.publish(subject, p.replyTo(), p.headers(), p.payload(), echo ? null : this);
            stats.messagesIn(1);
            ok();
            return;
        }
        if (!grants.mayPublish(subject)) {
            error("Permissions Violation for Publish to \"" + subject + "\"");
            return;
        }
        CompletableFuture<PublishResult> done = endpoint.broker.append(subject, NatsEndpoint.OCTET_STREAM,
                p.payload(), headers, null);
        publishesSent++;
        if (publishesSent - publishesAnswered >= MAX_PUBLISHES_IN_FLIGHT) {
            ctx.channel().config().setAutoRead(false);
        }
        done.whenComplete((r, e) -> Handoff.execute(ctx.executor(), () -> published(r, e)));
    }

    private void published(PublishResult r, Throwable error) {
        if (error == null) {
            stats.messagesIn(1);
            if (!echo) {
                subscriptions.published(r.topic(), r.offset());
            }
            ok();
        } else {
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            error(cause instanceof ApiException api ? api.getMessage() : "the publish failed");
        }
        answered();
    }

    /**
     * A PING asked after this point is answered only once {@code work} is done: a SUB becoming known to the other
     * nodes, so that a client's {@code flush()} after its SUB means "messages from any node reach it".
     */
    void awaitBeforePong(CompletableFuture<?> work) {
        if (work.isDone()) {
            return;
        }
        publishesSent++;
        work.whenComplete((r, e) -> Handoff.execute(ctx.executor(), this::answered));
    }

    /** One publish or awaited work is done: the PONGs waiting for it go out. */
    private void answered() {
        publishesAnswered++;
        if (publishesSent - publishesAnswered < MAX_PUBLISHES_IN_FLIGHT / 2 && heldBy == 0
                && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
        while (!pongsOwed.isEmpty() && pongsOwed.peekFirst() <= publishesAnswered) {
            pongsOwed.removeFirst();
            burst.append(PONG);
        }
        burst.flush();
    }

    private void ping(NatsOp.Ping p) {
        // A client's PING after its PUBs (a flush) is answered once they are stored, so the PONG means "stored".
        if (publishesAnswered < publishesSent) {
            pongsOwed.addLast(publishesSent);
        } else {
            burst.append(PONG);
        }
    }

    // ---- writing ----

    /**
     * {@code MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n}, or HMSG with the header block for a client that
     * said it takes headers (others get the payload alone).
     *
     * @param head    {@code <subject> <sid> [reply] }, the line after its verb, which the caller builds once for many
     *                messages
     * @param headers  the NATS header block, or null
     */
    void writeMsg(byte[] head, byte[] headers, byte[] payload) {
        // Sizes go straight into the burst: a line built as a String cost three allocations per delivery.
        if (headers != null && takesHeaders) {
            burst.append(HMSG);
            burst.append(head);
            burst.appendDecimal(headers.length);
            burst.append(SPACE);
            burst.appendDecimal(headers.length + payload.length);
            burst.append(CRLF);
            burst.append(headers);
        } else {
            burst.append(MSG);
            burst.append(head);
            burst.appendDecimal(payload.length);
            burst.append(CRLF);
        }
        burst.append(payload);
        burst.append(CRLF);
        stats.messagesOut(1);
    }

    /** Writes out what the burst holds: after messages handed to this loop outside a read. */
    void flush() {
        burst.flush();
    }

    /** {@code +OK}, for a client that asked for verbose mode. */
    void ok() {
        if (verbose) {
            burst.append(OK);
        }
    }

    /** {@code -ERR 'why'}; the connection stays open (nats-server's answer to a refused subject or permission). */
    void error(String why) {
        burst.append(("-ERR '" + why.replace('\'', '"').replace('\r', ' ').replace('\n', ' ') + "'\r\n")
                .getBytes(StandardCharsets.UTF_8));
        burst.flush();
    }

    /** {@code -ERR 'why'}, then the connection closes once it is written. */
    private void fail(String why) {
        if (closing) {
            return;
        }
        closing = true;
        if (why.equals("Slow Consumer")) {
            stats.closedAsSlow();
        }
        burst.discard();
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(("-ERR '" + why + "'\r\n").getBytes(StandardCharsets.UTF_8)))
                .addListener(ChannelFutureListener.CLOSE);
        // A reader that does not read would keep the close waiting behind a full buffer.
        ctx.executor().schedule(() -> ctx.close(), 1, TimeUnit.SECONDS);
    }

    private void ping() {
        if (++pingsUnanswered > 2) {
            fail("Stale Connection");
        } else {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(PING));
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        slowGuard.writabilityChanged();
        if (ctx.channel().isWritable()) {
            subscriptions.drain();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closing = true;
        burst.discard();
        if (pingTimer != null) {
            pingTimer.cancel(false);
        }
        if (deadline != null) {
            deadline.cancel(false);
        }
        slowGuard.cancel();
        subscriptions.endAll();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
