package dev.switchboard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;

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

    /** The error count of the new workloads' reports: {@code {"total":N}}. */
    record Errors(long total) {
    }
}
