package dev.switchboard.codec.websocket;

import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.broker.Broker;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.config.Limits;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.groups.GroupService;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.presence.Presence;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /v1/ws}: upgrades the connection (RFC 6455), or an HTTP/2 stream opened by extended CONNECT (RFC 8441,
 * {@link ExtendedConnect}), and hands it to a {@link WebSocketSession}. The optional
 * {@code ?subscribe=t1,t2&from=…} shortcut subscribes on connect; it is checked before the upgrade so a bad name gets
 * a plain 400 instead of a socket that closes at once.
 */
public final class WebSocketEndpoint {
    private final Broker broker;
    private final Delivery delivery;
    private final Limits limits;
    private final Duration pingInterval;
    private final int maxFrameBytes;
    /** One for every connection: it is immutable, and each decoder keeps a reference. */
    private final WebSocketDecoderConfig decoderConfig;
    private final PublishLimiter publishes;
    private final Presence presence;
    private final GroupService groups;

    public WebSocketEndpoint(Broker broker, Delivery delivery, Limits limits, Duration pingInterval,
                             PublishLimiter publishes, Presence presence, GroupService groups) {
        this.groups = groups;
        this.publishes = publishes;
        this.presence = presence;
        this.broker = broker;
        this.delivery = delivery;
        this.limits = limits;
        this.pingInterval = pingInterval;
        // A publish op carries the payload as JSON: base64 makes it 4/3 larger, plus the op's own fields.
        this.maxFrameBytes = limits.maxMessageBytes() / 3 * 4 + 8192;
        this.decoderConfig = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(maxFrameBytes).allowExtensions(false).build();
    }

    public void upgrade(Exchange ex) {
        List<String> initial = new ArrayList<>();
        String subscribe = ex.query("subscribe");
        if (subscribe != null) {
            for (String name : subscribe.split(",", -1)) {
                initial.add(TopicNames.validate(name));
                ex.grants().requireSubscribe(name);
            }
            if (initial.size() > limits.maxSubscriptionsPerConnection()) {
                throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "at most " + limits.maxSubscriptionsPerConnection()
                        + " subscriptions per connection");
            }
        }
        StartPosition from = StartPosition.parse(ex.query("from"), StartPosition.NEXT);
        // RFC 6455 4.2.1: without these the handshaker throws (a 500) after the pipeline was already changed.
        HttpHeaders headers = ex.request().headers();
        boolean overHttp2 = ExtendedConnect.isWebSocketStream(ex.ctx().channel());
        if (!overHttp2 && (!headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                || !headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true))
                || !headers.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)
                || !headers.contains(HttpHeaderNames.SEC_WEBSOCKET_VERSION)) {
            throw new ApiException(ErrorCode.INVALID_UPGRADE, "this is a WebSocket endpoint: send 'Connection: Upgrade',"
                    + " 'Upgrade: websocket', Sec-WebSocket-Key and Sec-WebSocket-Version (RFC 6455)");
        }
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
                "ws://" + ex.header("Host") + "/v1/ws", null, decoderConfig).newHandshaker(ex.request());
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ex.ctx().channel());
            ex.takeOver();
            return;
        }
        WebSocketSession session = new WebSocketSession(broker, delivery, limits, pingInterval, maxFrameBytes,
                ex.grants(), publishes.connection(), presence, groups);
        ChannelPipeline p = ex.ctx().pipeline();
        // The session joins the pipeline first: with epoll or NIO the handshake's write, and so its listener, may
        // complete before handshake() returns.
        // The handshaker's decoder checks framing only; the session joins fragments and checks UTF-8 (RFC 6455 8.1).
        p.addLast(session);
        ex.upgrade();
        if (overHttp2) {
            ExtendedConnect.switchProtocols(p, "http", "aggregator", decoderConfig);
            session.subscribeOnConnect(initial, from);
            return;
        }
        handshaker.handshake(ex.ctx().channel(), ex.request()).addListener(f -> {
            if (f.isSuccess()) {
                session.subscribeOnConnect(initial, from);
            } else {
                ex.ctx().close();
            }
        });
    }
}
