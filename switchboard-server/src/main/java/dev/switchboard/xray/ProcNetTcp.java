package dev.switchboard.xray;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The send and receive queues of every TCP socket of this network namespace, from {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6}: one read serves every connection and every engine (NIO has no descriptor to ask). Each line
 * gives a socket's local and remote address in hex and {@code tx_queue:rx_queue}; IPv4 clients of a dual-stack
 * listener appear in {@code tcp6} as IPv4-mapped addresses and are keyed as plain IPv4.
 *
 * <p>Threads: reads files; never call it on an event loop.
 */
final class ProcNetTcp {
    private static final Logger log = LoggerFactory.getLogger(ProcNetTcp.class);
    private static final List<Path> FILES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

    private ProcNetTcp() {
    }

    /**
     * {@link #key} → {sendQueueBytes, recvQueueBytes}. A file that cannot be read (no IPv6 here, no {@code /proc}: not
     * Linux) leaves its sockets' queues unknown rather than failing the answer.
     */
    static Map<String, long[]> read() {
        Map<String, long[]> queues = new HashMap<>();
        for (Path file : FILES) {
            try {
                parse(Files.readAllLines(file), queues);
            } catch (NoSuchFileException e) {
                // no IPv6 here, or no /proc
            } catch (IOException | RuntimeException e) {
                log.warn("could not read {}: the kernel's queues are left out", file, e);
            }
        }
        return queues;
    }

    static void parse(List<String> lines, Map<String, long[]> into) {
        for (int n = 1; n < lines.size(); n++) { // line 0 is the header
            String[] f = lines.get(n).trim().split("\\s+");
            if (f.length < 5) {
                continue;
            }
            String local = endpoint(f[1]);
            String remote = endpoint(f[2]);
            int colon = f[4].indexOf(':');
            if (local == null || remote == null || colon < 0) {
                continue;
            }
            long tx = Long.parseLong(f[4], 0, colon, 16);
            long rx = Long.parseLong(f[4], colon + 1, f[4].length(), 16);
            into.put(key(local, remote), new long[] {tx, rx});
        }
    }

    /** The key of a connection: its local and remote endpoint as {@link ConnectionStats#address} writes them. */
    static String key(String local, String remote) {
        return local + ">" + remote;
    }

    /**
     * {@code 0100007F:1F90} → {@code 127.0.0.1:8080}. The address is the kernel's bytes printed as 32-bit words in
     * host order (little-endian here), so each word's bytes are reversed; the port is plain hex.
     */
    static String endpoint(String hex) {
        int colon = hex.indexOf(':');
        if (colon != 8 && colon != 32) {
            return null;
        }
        byte[] bytes = new byte[colon / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int b = 0; b < 4; b++) {
                int at = word * 8 + (3 - b) * 2;
                bytes[word * 4 + b] = (byte) Integer.parseInt(hex, at, at + 2, 16);
            }
        }
        try {
            InetAddress a = InetAddress.getByAddress(bytes); // an IPv4-mapped IPv6 address comes back as IPv4
            int port = Integer.parseInt(hex, colon + 1, hex.length(), 16);
            return ConnectionStats.address(new java.net.InetSocketAddress(a, port));
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
