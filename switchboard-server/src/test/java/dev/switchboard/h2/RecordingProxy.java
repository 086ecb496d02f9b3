package dev.switchboard.h2;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on a free loopback port to {@code 127.0.0.1:target} that keeps every byte the server sent on each
 * connection, so a test can tell whose bytes were wrong when a client loses its place in them.
 */
final class RecordingProxy implements AutoCloseable {
    private final int target;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<ByteArrayOutputStream> fromServer = new CopyOnWriteArrayList<>();
    private final List<ByteArrayOutputStream> fromClient = new CopyOnWriteArrayList<>();

    /** Server bytes at the start of each connection handed to the client one per write, to widen any race there. */
    private final int trickle;

    private RecordingProxy(int target, int trickle) throws IOException {
        this.target = target;
        this.trickle = trickle;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    static RecordingProxy to(int targetPort) {
        return to(targetPort, 0);
    }

    /** A relay that writes the first {@code trickle} bytes from the server to the client one byte at a time. */
    static RecordingProxy to(int targetPort, int trickle) {
        try {
            RecordingProxy p = new RecordingProxy(targetPort, trickle);
            Thread.ofVirtual().name("recording-proxy").start(p::accept);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return listener.getLocalPort();
    }

    /** What the server sent on each connection so far, in the order the connections came. */
    List<byte[]> fromServer() {
        return fromServer.stream().map(b -> {
            synchronized (b) {
                return b.toByteArray();
            }
        }).toList();
    }

    /** What each client sent, in the order the connections came. */
    List<byte[]> fromClient() {
        return fromClient.stream().map(b -> {
            synchronized (b) {
                return b.toByteArray();
            }
        }).toList();
    }

    private void accept() {
        try {
            while (true) {
                Socket client = listener.accept();
                client.setTcpNoDelay(true);
                Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(client);
                sockets.add(server);
                ByteArrayOutputStream recorded = new ByteArrayOutputStream();
                fromServer.add(recorded);
                ByteArrayOutputStream sent = new ByteArrayOutputStream();
                fromClient.add(sent);
                Thread.ofVirtual().start(() -> relay(client, server, sent, 0));
                Thread.ofVirtual().start(() -> relay(server, client, recorded, trickle));
            }
        } catch (IOException closed) {
            // close() closed the listener
        }
    }

    private static void relay(Socket from, Socket to, ByteArrayOutputStream recorded, int trickle) {
        byte[] buf = new byte[16 * 1024];
        long relayed = 0;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (recorded != null) {
                    synchronized (recorded) {
                        recorded.write(buf, 0, n);
                    }
                }
                int i = 0;
                for (; i < n && relayed < trickle; i++, relayed++) {
                    out.write(buf[i]);
                    out.flush();
                }
                out.write(buf, i, n - i);
                out.flush();
                relayed += n - i;
            }
        } catch (IOException closed) {
            // either side went away; closing both ends tells the other
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
