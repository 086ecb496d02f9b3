package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness's loop behaves as a real event loop does where handlers can tell the difference. */
class TestConnectionTest {
    /**
     * The order of events that failed SseStreamTest now and then: a task on the loop (there, the writability change
     * that resumes a stream) writes, and the fan-out's wake-up arrives from the log writer's thread meanwhile. A real
     * loop runs the wake-up after the task; running it inside the write re-entered the HTTP encoder, which wrote one
     * chunk header twice (released twice: IllegalReferenceCountException when the test read it).
     */
    @Test
    void aTaskHandedOverDuringAnotherTaskRunsAfterItNotInsideItsWrite() throws InterruptedException {
        TestConnection c = new TestConnection(p -> p.addLast(new HttpResponseEncoder(), new ChannelInboundHandlerAdapter()));
        // Written as a handler writes (the SSE stream's), not through the channel: EmbeddedChannel's own write
        // methods run pending tasks only after the pipeline has returned.
        ChannelHandlerContext handler = c.pipeline().lastContext();
        try {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setTransferEncodingChunked(head, true);
            handler.writeAndFlush(head);
            assertThat(text(c.written())).startsWith("HTTP/1.1 200 OK\r\n");

            List<String> events = new ArrayList<>();
            c.eventLoop().execute(() -> {
                handOverFromAnotherThread(c, () -> {
                    events.add("handed-over task");
                    handler.writeAndFlush(chunk("b"));
                });
                events.add("writing");
                handler.write(chunk("a"));
                events.add("written");
                handler.flush();
            });
            c.runPendingTasks();

            assertThat(events).containsExactly("writing", "written", "handed-over task");
            assertThat(text(c.written())).isEqualTo("1\r\na\r\n1\r\nb\r\n");
        } finally {
            c.finishAndReleaseAll();
        }
    }

    private static void handOverFromAnotherThread(TestConnection c, Runnable task) {
        Thread other = new Thread(() -> c.eventLoop().execute(task));
        other.start();
        try {
            other.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static DefaultHttpContent chunk(String s) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
