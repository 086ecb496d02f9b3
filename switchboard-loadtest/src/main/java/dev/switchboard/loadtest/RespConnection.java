package dev.switchboard.loadtest;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * One blocking Redis connection, a command and its reply at a time, for load loops on virtual threads that need a
 * reply before their next command (XREADGROUP, then XACK). Replies are decoded by {@link RespDecoder}, fed the bytes
 * as they arrive.
 */
final class RespConnection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final EmbeddedChannel decoder = new EmbeddedChannel(new RespDecoder());
    private final byte[] buffer = new byte[64 * 1024];

    RespConnection(URI redis) {
        try {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(redis.getHost(), redis.getPort() < 0 ? 6379 : redis.getPort()), 5000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach " + redis, e);
        }
    }

    /** Sends a command and answers its reply (a {@link RespDecoder.Error} is returned, not thrown). */
    Object call(Object... args) {
        try {
            out.write(command(args));
            out.flush();
            for (Object reply; ; ) {
                if ((reply = decoder.readInbound()) != null) {
                    return reply;
                }
                int n = in.read(buffer);
                if (n < 0) {
                    throw new IOException("Redis closed the connection");
                }
                decoder.writeInbound(Unpooled.copiedBuffer(buffer, 0, n));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A RESP array of bulk strings; an argument is a {@code byte[]} or its text. */
    private static byte[] command(Object... args) {
        StringBuilder head = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        head.append('*').append(args.length).append("\r\n");
        bytes.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
        for (Object a : args) {
            byte[] value = a instanceof byte[] b ? b : a.toString().getBytes(StandardCharsets.UTF_8);
            bytes.writeBytes(("$" + value.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            bytes.writeBytes(value);
            bytes.writeBytes(new byte[] {'\r', '\n'});
        }
        return bytes.toByteArray();
    }

    @Override
    public void close() {
        decoder.finishAndReleaseAll();
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a benchmark connection
        }
    }
}
