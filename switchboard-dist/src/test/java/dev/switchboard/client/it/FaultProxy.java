package dev.switchboard.client.it;

import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.SwitchboardOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback that misbehaves the way networks do: each connection is cut (reset) after a random number
 * of bytes from the server, reads from the server stall for random moments, and writes are split into random small
 * pieces, in both directions. Seeded, so a failing run can be repeated. Close it to stop it and every connection.
 */
final class FaultProxy implements AutoCloseable {
    /** How a connection misbehaves. */
    record Faults(int minBytesBeforeCut, int maxBytesBeforeCut, double stallChance, int maxStallMillis) {}

    private final ServerSocket listener;
    private final int targetPort;
    private final Faults faults;
    private final Random seeds;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger cuts = new AtomicInteger();
    private volatile boolean closed;

    FaultProxy(int targetPort, Faults faults, long seed) throws IOException {
        this.targetPort = targetPort;
        this.faults = faults;
        this.seeds = new Random(seed);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "fault-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    String url() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    /** Options of a client that goes through this proxy, reconnecting quickly and counting its disconnects. */
    SwitchboardOptions clientOptions(AtomicInteger disconnects) {
        return SwitchboardOptions.builder().server(url())
                .reconnectDelay(Duration.ofMillis(5), Duration.ofMillis(50))
                .listener(new ConnectionListener() {
                    @Override
                    public void disconnected(String topic, URI server, Throwable cause) {
                        disconnects.incrementAndGet();
                    }
                }).build();
    }

    /** Connections cut so far. */
    int cuts() {
        return cuts.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket();
                server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                // Split writes are the fault; Nagle holding each piece for the peer's delayed ACK would only be slow.
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                Random random;
                synchronized (seeds) {
                    random = new Random(seeds.nextLong());
                }
                long budget = faults.minBytesBeforeCut()
                        + (long) (random.nextDouble() * (faults.maxBytesBeforeCut() - faults.minBytesBeforeCut()));
                start(() -> pump(client, server, new Random(random.nextLong()), Long.MAX_VALUE), "up");
                start(() -> pump(server, client, new Random(random.nextLong()), budget), "down");
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private static void start(Runnable r, String name) {
        Thread t = new Thread(r, "fault-proxy-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** Copies {@code from} to {@code to} in random pieces, stalling now and then, and cuts both after {@code budget} bytes. */
    private void pump(Socket from, Socket to, Random random, long budget) {
        byte[] buffer = new byte[16384];
        long sent = 0;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                int at = 0;
                while (at < n) {
                    int piece = Math.min(n - at, 1 + random.nextInt(Math.max(1, n / 2)));
                    if (sent + piece > budget) {
                        out.write(buffer, at, (int) (budget - sent));
                        out.flush();
                        cut(from, to);
                        return;
                    }
                    out.write(buffer, at, piece);
                    out.flush();
                    at += piece;
                    sent += piece;
                }
                if (random.nextDouble() < faults.stallChance()) {
                    Thread.sleep(random.nextInt(faults.maxStallMillis() + 1)); // the fault itself: a stalled read
                }
            }
        } catch (IOException | InterruptedException e) {
            // the other direction was cut, or the proxy closed
        } finally {
            close(from);
            close(to);
        }
    }

    /** A reset, not a clean close: the peer sees the connection die mid-stream. */
    private void cut(Socket a, Socket b) {
        cuts.incrementAndGet();
        for (Socket s : new Socket[] {a, b}) {
            try {
                s.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // already gone
            }
            close(s);
        }
    }

    private void close(Socket s) {
        sockets.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        sockets.forEach(this::close);
    }
}
