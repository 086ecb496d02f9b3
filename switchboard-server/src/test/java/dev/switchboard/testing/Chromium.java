package dev.switchboard.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real headless Chromium (Debian's {@code chromium} package) driven over the DevTools protocol, spoken with the JDK's
 * own WebSocket client. One page per browser; the page's console messages, uncaught exceptions and browser log entries
 * (CORS refusals, network errors) are collected for failure messages. Close it to kill the whole process tree and
 * delete the profile directory.
 *
 * <p>Chromium is required, not optional: when it is missing the test fails with how to install it. {@code CHROMIUM}
 * in the environment overrides the binary's path.
 */
public final class Chromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final int LOG_LINES = 200;

    private final Process process;
    private final Path profile;
    private final Deque<String> output = new ArrayDeque<>();
    private final List<String> pageLog = new ArrayList<>();
    private final CompletableFuture<String> devtoolsUrl = new CompletableFuture<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private Cdp cdp;
    private String session;

    private Chromium(Process process, Path profile) {
        this.process = process;
        this.profile = profile;
    }

    public static Path binary() {
        return Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    }

    /** Starts the browser and connects to its DevTools endpoint, or fails saying why. */
    public static Chromium launch(Duration startTimeout) {
        Path binary = binary();
        if (!Files.isExecutable(binary)) {
            throw new AssertionError("the browser tests need headless Chromium, and " + binary + " is missing: install it"
                    + " with `apt-get install -y chromium` (.ci/run does), or point CHROMIUM at a Chromium binary");
        }
        Path profile;
        Process process;
        try {
            profile = Files.createTempDirectory("switchboard-chromium");
            process = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
                    "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
                    "--remote-debugging-port=0", "about:blank")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
        Chromium c = new Chromium(process, profile);
        try {
            c.connect(startTimeout);
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    private void connect(Duration startTimeout) {
        Thread reader = new Thread(this::readOutput, "chromium-output");
        reader.setDaemon(true);
        reader.start();
        String url;
        try {
            url = devtoolsUrl.get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("Chromium did not open its DevTools port within " + startTimeout + "\n" + output());
        } catch (ExecutionException e) {
            throw new AssertionError("Chromium failed to start: " + e.getCause().getMessage() + "\n" + output());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        cdp = new Cdp(this::onEvent);
        try {
            cdp.ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(url), cdp).get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("could not connect to Chromium's DevTools at " + url + ": " + e + "\n" + output());
        }
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                Matcher m = DEVTOOLS.matcher(line);
                if (m.find()) {
                    devtoolsUrl.complete(m.group(1));
                }
                if (line.contains("dbus")) {
                    continue; // no system bus in a container: pure noise
                }
                synchronized (output) {
                    output.addLast(line);
                    if (output.size() > LOG_LINES) {
                        output.removeFirst();
                    }
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
        devtoolsUrl.completeExceptionally(new IllegalStateException("Chromium exited before opening DevTools"
                + (process.isAlive() ? "" : " (exit code " + process.exitValue() + ")")));
    }

    /**
     * Opens a new tab, turns on console and log collection, and navigates it to {@code url}. Returns once the
     * navigation was committed; the page's scripts then run on their own.
     */
    public void open(String url) {
        String target = call("Target.createTarget", JSON.createObjectNode().put("url", "about:blank"), null)
                .path("targetId").asText();
        session = call("Target.attachToTarget", JSON.createObjectNode().put("targetId", target).put("flatten", true),
                null).path("sessionId").asText();
        call("Runtime.enable", JSON.createObjectNode(), session);
        call("Log.enable", JSON.createObjectNode(), session);
        JsonNode nav = call("Page.navigate", JSON.createObjectNode().put("url", url), session);
        if (nav.hasNonNull("errorText")) {
            throw new AssertionError("Chromium could not load " + url + ": " + nav.get("errorText").asText());
        }
    }

    /** Evaluates a JavaScript expression in the page and returns its value as text, or a parenthesised failure. */
    public String evaluate(String expression) {
        if (session == null) {
            return "(no page)";
        }
        try {
            JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                    .put("returnByValue", true), session);
            JsonNode value = r.path("result").path("value");
            return value.isTextual() ? value.asText() : value.toString();
        } catch (RuntimeException | AssertionError e) {
            return "(evaluate failed: " + e.getMessage() + ")";
        }
    }

    /** What the page and the browser said: console messages, exceptions, log entries. */
    public String pageLog() {
        synchronized (pageLog) {
            return String.join("\n", pageLog);
        }
    }

    /** The browser's own last output lines (crashes, startup errors). */
    public String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    private void onEvent(JsonNode event) {
        JsonNode p = event.path("params");
        String line = switch (event.path("method").asText()) {
            case "Runtime.consoleAPICalled" -> {
                StringBuilder b = new StringBuilder("console." + p.path("type").asText() + ":");
                for (JsonNode arg : p.path("args")) {
                    b.append(' ').append(arg.has("value") ? arg.get("value").asText()
                            : arg.path("description").asText(arg.path("type").asText()));
                }
                yield b.toString();
            }
            case "Runtime.exceptionThrown" -> {
                JsonNode d = p.path("exceptionDetails");
                yield "exception: " + d.path("text").asText() + " "
                        + d.path("exception").path("description").asText("");
            }
            case "Log.entryAdded" -> {
                JsonNode e = p.path("entry");
                yield "log." + e.path("level").asText() + ": " + e.path("text").asText() + " "
                        + e.path("url").asText("");
            }
            case "Inspector.targetCrashed" -> "the page crashed";
            default -> null;
        };
        if (line != null) {
            synchronized (pageLog) {
                pageLog.add(line);
            }
        }
    }

    private JsonNode call(String method, ObjectNode params, String sessionId) {
        try {
            JsonNode reply = cdp.send(method, params, sessionId).get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (reply.has("error")) {
                throw new AssertionError("DevTools " + method + " failed: " + reply.get("error"));
            }
            return reply.path("result");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("DevTools " + method + " got no answer: " + e + "\n" + output());
        }
    }

    /** Kills the browser and every process it started, then deletes its profile. */
    @Override
    public void close() {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        if (cdp != null) {
            cdp.abort();
        }
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        http.close();
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }

    /** The DevTools protocol over one WebSocket: numbered calls answered by id, everything else an event. */
    private static final class Cdp implements WebSocket.Listener {
        private final java.util.function.Consumer<JsonNode> events;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
        private final StringBuilder partial = new StringBuilder();
        private volatile WebSocket ws;

        Cdp(java.util.function.Consumer<JsonNode> events) {
            this.events = events;
        }

        synchronized CompletableFuture<JsonNode> send(String method, ObjectNode params, String sessionId) {
            int id = ids.incrementAndGet();
            ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
            msg.set("params", params);
            if (sessionId != null) {
                msg.put("sessionId", sessionId);
            }
            CompletableFuture<JsonNode> reply = new CompletableFuture<>();
            pending.put(id, reply);
            // one send at a time: the JDK's WebSocket refuses a send while the previous one is in progress
            ws.sendText(msg.toString(), true).join();
            return reply;
        }

        void abort() {
            WebSocket w = ws;
            if (w != null) {
                w.abort();
            }
            failAll(new IllegalStateException("DevTools connection closed"));
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            ws = webSocket;
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    JsonNode msg = JSON.readTree(text);
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> reply = pending.remove(msg.get("id").asInt());
                        if (reply != null) {
                            reply.complete(msg);
                        }
                    } else {
                        events.accept(msg);
                    }
                } catch (IOException e) {
                    failAll(e);
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            failAll(new IllegalStateException("DevTools closed the connection: " + statusCode + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            failAll(error);
        }

        private void failAll(Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
            pending.clear();
        }
    }
}
