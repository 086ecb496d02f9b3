package dev.switchboard.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP proxy on a free loopback port to {@code 127.0.0.1:target} that can stop forwarding without closing anything,
 * as a peer that stalls (a Redis that hangs, a network that drops packets) looks to its clients. While paused it
 * holds what either side sends, and tells what the clients sent meanwhile; {@link #resume} delivers it in order.
 */
public final class PausableProxy implements AutoCloseable {
    private final int target;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    /** Guarded by gate. */
    private boolean paused;
    /** Guarded by gate: what clients sent while paused. */
    private final ByteArrayOutputStream heldFromClients = new ByteArrayOutputStream();

    private PausableProxy(int target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    public static PausableProxy to(int targetPort) {
        try {
            PausableProxy p = new PausableProxy(targetPort);
            Thread.ofVirtual().name("proxy-accept").start(p::accept);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    public void pause() {
        synchronized (gate) {
            paused = true;
            heldFromClients.reset();
        }
    }

    public void resume() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    /** Whether the clients sent {@code text} while the proxy was paused (and it is still held). */
    public boolean holdsFromClients(String text) {
        synchronized (gate) {
            return heldFromClients.toString(StandardCharsets.ISO_8859_1).contains(text);
        }
    }

    private void accept() {
        try {
            while (true) {
                Socket client = listener.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(client);
                sockets.add(upstream);
                Thread.ofVirtual().start(() -> pump(client, upstream, true));
                Thread.ofVirtual().start(() -> pump(upstream, client, false));
            }
        } catch (IOException e) {
            // closed
        }
    }

    /** Reads all the time (so what is sent while paused is seen); a writer of its own forwards, unless paused. */
    private void pump(Socket from, Socket to, boolean fromClient) {
        BlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
        Thread writer = Thread.ofVirtual().start(() -> forward(chunks, to));
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                synchronized (gate) {
                    if (paused && fromClient) {
                        heldFromClients.write(buffer, 0, n);
                    }
                }
                chunks.add(Arrays.copyOf(buffer, n));
            }
        } catch (IOException e) {
            // either side closed: the pair ends
        } finally {
            writer.interrupt();
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void forward(BlockingQueue<byte[]> chunks, Socket to) {
        try {
            OutputStream out = to.getOutputStream();
            while (true) {
                byte[] chunk = chunks.take();
                synchronized (gate) {
                    while (paused) {
                        gate.wait();
                    }
                }
                out.write(chunk);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            closeQuietly(to);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        resume();
        closeQuietly(listener);
        sockets.forEach(PausableProxy::closeQuietly);
    }
}
