package dev.switchboard.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A fresh temporary directory for a benchmark's log, removed whole at the end of its trial. */
final class DataDirectory {
    private DataDirectory() {}

    static Path create(String name) throws IOException {
        return Files.createTempDirectory(name);
    }

    static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
