package dev.switchboard.cli;

import dev.switchboard.client.JobStatus;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;

/**
 * Shows a job's changes on stderr: on a terminal, one bar redrawn in place with {@code \r}
 * ({@code [###.......]  40% encoding audio}); otherwise one plain line per change, which reads well in logs.
 */
final class ProgressBar {
    private static final int BAR_WIDTH = 30;

    private final PrintWriter err;
    private final boolean live;
    private final int columns;
    /** Characters of the bar line now on screen, so a shorter redraw can blank the rest. */
    private int drawn;

    ProgressBar(PrintWriter err, boolean live, int columns) {
        this.err = err;
        this.live = live;
        this.columns = columns;
    }

    /** Live when stdin and stdout are a terminal (what {@link System#console()} tells), as wide as {@code COLUMNS}. */
    static ProgressBar forTerminal(PrintWriter err) {
        int columns = 80;
        try {
            columns = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80").strip());
        } catch (NumberFormatException ignored) {
            // keep 80
        }
        return new ProgressBar(err, System.console() != null, Math.max(columns, 20));
    }

    /** A change of the job; a finished job ends the display with its final status. */
    void update(JsonNode job) {
        boolean terminal = JobStatus.fromWire(job.path("status").asText("queued")).finished();
        if (live) {
            draw(bar(job));
            if (terminal) {
                err.print('\n');
                drawn = 0;
                err.println(finalStatus(job));
            }
        } else {
            err.println(terminal ? finalStatus(job) : plain(job));
        }
        err.flush();
    }

    /** A line about the connection, printed below the bar so the bar stays intact. */
    void note(String text) {
        if (live && drawn > 0) {
            err.print('\n');
            drawn = 0;
        }
        err.println(text);
        err.flush();
    }

    private void draw(String line) {
        String fitted = line.length() >= columns ? line.substring(0, columns - 1) : line;
        err.print('\r');
        err.print(fitted);
        for (int i = fitted.length(); i < drawn; i++) {
            err.print(' ');
        }
        drawn = fitted.length();
    }

    static String bar(JsonNode job) {
        Integer percent = percent(job);
        int filled = percent == null ? 0 : percent * BAR_WIDTH / 100;
        return "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] "
                + (percent == null ? "    " : String.format("%3d%%", percent)) + " " + text(job);
    }

    static String plain(JsonNode job) {
        Integer percent = percent(job);
        String status = job.path("status").asText();
        String message = job.path("progress").path("message").asText(null);
        return status + (percent == null ? "" : " " + percent + "%")
                + (status.equals("running") && message != null ? " " + message : "") + attempt(job);
    }

    static String finalStatus(JsonNode job) {
        String status = job.path("status").asText();
        return job.hasNonNull("error") && !status.equals("succeeded")
                ? status + ": " + job.get("error").asText() : status;
    }

    private static Integer percent(JsonNode job) {
        JsonNode p = job.path("progress").path("percent");
        return p.isIntegralNumber() ? Math.max(0, Math.min(100, p.asInt())) : null;
    }

    /** The worker's message while running; otherwise the status. */
    private static String text(JsonNode job) {
        String status = job.path("status").asText();
        String message = job.path("progress").path("message").asText(null);
        return (status.equals("running") && message != null ? message : status) + attempt(job);
    }

    private static String attempt(JsonNode job) {
        int attempt = job.path("attempt").asInt(1);
        return attempt > 1 ? " (attempt " + attempt + ")" : "";
    }
}
