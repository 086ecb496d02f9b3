package dev.switchboard.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A server process's CPU time (user + system) from {@code /proc/PID/stat}, so a run reports the server's cost per
 * message beside its throughput. Without a pid (negative) nothing is measured.
 */
final class ServerCpu {
    /** Linux's USER_HZ, the unit of /proc's utime and stime on every architecture Java runs on here. */
    private static final double TICKS_PER_SECOND = 100.0;

    private final long pid;

    ServerCpu(long pid) {
        this.pid = pid;
    }

    boolean measured() {
        return pid >= 0;
    }

    /** utime + stime so far, in seconds. */
    double seconds() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // Fields after the command name, which is in parentheses and may hold spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the CPU time of process " + pid, e);
        }
    }
}
