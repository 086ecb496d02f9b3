package dev.switchboard.codec.websocket;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.wire.ApiException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.concurrent.CompletionException;

/** The server's answers to a client's ops (docs/api.md, WebSocket), shared by the session and its subscriptions. */
final class Replies {
    private Replies() {}

    /** Why a feed did not open, as the client is told: a refusal as it is, anything else unavailable. */
    static ApiException refusal(Throwable error, String what) {
        Throwable cause = error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
        return cause instanceof ApiException a ? a : ApiException.unavailable(what + ": " + cause.getMessage());
    }

    static ObjectNode reply(String op, String id) {
        ObjectNode n = HttpResponses.MAPPER.createObjectNode().put("op", op);
        if (id != null) {
            n.put("id", id);
        }
        return n;
    }

    static TextWebSocketFrame errorFrame(String id, String code, String message) {
        return new TextWebSocketFrame(reply("error", id).put("code", code).put("message", message).toString());
    }
}
