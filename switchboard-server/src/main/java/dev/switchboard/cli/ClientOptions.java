package dev.switchboard.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/** Options shared by every client command ({@code pub}, {@code sub}, {@code bench}). */
public final class ClientOptions {
    @Option(names = "--server", defaultValue = "http://127.0.0.1:8080",
            description = "Server URL (env SWITCHBOARD_URL). Default: ${DEFAULT-VALUE}")
    public URI server;

    /** The server URL without a trailing slash, ready for appending paths. */
    public String base() {
        String s = server.toString();
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
