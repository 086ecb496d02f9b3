package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs of a test's own, to fill up for real: a data directory on it gets {@code ENOSPC} from the kernel.
 * Mounting needs root, as the tests run (in CI too); a test that cannot mount one fails rather than skips.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path mount;

    private SmallDisk(Path mount) {
        this.mount = mount;
    }

    /** Mounts a tmpfs of {@code mib} MiB on {@code dir}, which is made if missing. */
    public static SmallDisk mount(Path dir, int mib) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String out = run("mount", "-t", "tmpfs", "-o", "size=" + mib + "m", "tmpfs", dir.toString());
        if (out != null) {
            fail("This test fills a disk: it needs to mount a " + mib + " MiB tmpfs for the data directory (as root, "
                    + "like the CI runner), and `mount -t tmpfs` failed: " + out);
        }
        return new SmallDisk(dir);
    }

    public Path path() {
        return mount;
    }

    /** A file of {@code mib} MiB here, taking room until it is deleted. */
    public Path fill(String name, int mib) throws IOException {
        Path f = mount.resolve(name);
        try (OutputStream out = Files.newOutputStream(f)) {
            byte[] block = new byte[1024 * 1024];
            for (int i = 0; i < mib; i++) {
                out.write(block);
            }
        }
        return f;
    }

    /** Makes it {@code mib} MiB large, keeping what it holds. */
    public void grow(int mib) throws IOException, InterruptedException {
        String out = run("mount", "-o", "remount,size=" + mib + "m", mount.toString());
        if (out != null) {
            fail("growing the tmpfs at " + mount + " failed: " + out);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String out = run("umount", mount.toString());
        if (out != null && run("umount", "-l", mount.toString()) != null) {
            fail("could not unmount " + mount + ": " + out);
        }
    }

    /** Runs a command; null when it succeeded, else its exit code and output. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    }
}
