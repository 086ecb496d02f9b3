package dev.switchboard.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/** The outcome of a {@code bench} run: text for people, one JSON object line for scripts (its record fields). */
public interface BenchReport {

    /** Whether the run saw any error. */
    boolean failed();

    String toText();

    /** Prints {@code report} as text or JSON and returns the exit code: 1 if the run saw any error. */
    static int print(BenchReport report, boolean json, PrintWriter out) throws IOException {
        out.print(json ? new ObjectMapper().writeValueAsString(report) + System.lineSeparator() : report.toText());
        out.flush();
        return report.failed() ? 1 : 0;
    }

    /** The error count of the durable, idle and longpoll reports: {@code {"total":N}}. */
    record Errors(long total) {
    }

    /** A report whose errors are only counted in total, with a few samples. */
    interface Counted extends BenchReport {
        Errors errors();

        List<String> errorSamples();

        @Override
        default boolean failed() {
            return errors().total() > 0;
        }

        /** The report's text: {@code lines}, then the error count and samples. */
        default String text(String lines) {
            StringBuilder t = new StringBuilder(lines);
            t.append(String.format(Locale.ROOT, "errors      %d%n", errors().total()));
            errorSamples().forEach(s -> t.append("  ").append(s).append(System.lineSeparator()));
            return t.toString();
        }
    }
}
