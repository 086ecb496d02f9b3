package dev.switchboard.client;

import dev.switchboard.wire.Durations;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Long polls {@code GET /v1/topics/{T}/messages?from=N&wait=…}, each from the previous {@code next}. A long poll waits
 * for a topic that does not exist yet, so a 404 means it was deleted: final.
 */
final class PollReader implements SubscriptionImpl.Reader {
    private static final int MAX_LIMIT = 100;

    private volatile Thread thread;

    @Override
    public void stream(URI server, SubscriptionImpl sub) throws IOException, InterruptedException {
        thread = Thread.currentThread();
        String topic = sub.topic();
        int limit = Math.min(MAX_LIMIT, sub.options().bufferSize());
        // A short poll first: it says at once that the server answers, and what "next" means right now (a long
        // poll only says so when it answers; pinned, a connection lost while waiting skips nothing).
        take(sub, sub.position(), first(sub.rest(), server, topic, sub.position(), limit));
        sub.connected(server);
        Duration wait = sub.options().pollWait();
        while (true) {
            From from = sub.position();
            HttpRequest request = sub.rest().request(server, path(topic, from, limit)
                            + "&wait=" + Durations.format(wait))
                    .timeout(wait.plus(sub.rest().options.requestTimeout())).build();
            take(sub, from, Json.page(ok(sub.rest().once(request))));
        }
    }

    private static void take(SubscriptionImpl sub, From from, Page page) throws InterruptedException {
        if (page.gap() && from.isOffset()) {
            long first = page.messages().isEmpty() ? page.next() : page.messages().get(0).offset();
            sub.gap(sub.topic(), from.offsetValue(), first);
        }
        for (Message m : page.messages()) {
            sub.message(m);
        }
        sub.moveTo(page.next());
    }

    private static String path(String topic, From from, int limit) {
        return "/v1/topics/" + Endpoints.segment(topic) + "/messages?from=" + from + "&limit=" + limit;
    }

    /** A short poll; a topic that does not exist yet has nothing, and its first offset will be 1. */
    private static Page first(Rest rest, URI server, String topic, From from, int limit)
            throws IOException, InterruptedException {
        HttpRequest request = rest.request(server, path(topic, from, limit)).timeout(rest.options.requestTimeout()).build();
        HttpResponse<byte[]> response = rest.once(request);
        if (response.statusCode() == 404 && "topic_not_found".equals(Errors.of(404, response.body()).wireCode())) {
            return new Page(java.util.List.of(), from.isOffset() ? from.offsetValue() : 1, false);
        }
        return Json.page(ok(response));
    }

    @Override
    public void abort() {
        Thread t = thread;
        if (t != null) {
            t.interrupt(); // abandons the request under way
        }
    }

    /** What {@code from=next} means right now: a short poll answers with it as {@code next}. */
    static long next(Rest rest, URI server, String topic) throws IOException, InterruptedException {
        return first(rest, server, topic, From.next(), 1).next();
    }

    /** The body of a 200; a refusal worth retrying (5xx, 429) is an IOException, any other is final. */
    static byte[] ok(HttpResponse<byte[]> response) throws IOException {
        return ok(response.statusCode(), response.body());
    }

    static byte[] ok(int status, byte[] body) throws IOException {
        if (status == 200) {
            return body;
        }
        if (status / 100 == 5 || status == 429) {
            throw new IOException("HTTP " + status + ": " + Errors.of(status, body).getMessage());
        }
        throw Errors.of(status, body);
    }
}
