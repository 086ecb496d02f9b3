package dev.switchboard.codec.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The header is written by hand from random longs: its format, what is kept, and what is refused. */
class TraceparentTest {
    private static final String SHAPE = "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}";

    @Test
    void aValidHeaderKeepsItsTraceIdAndFlagsUnderANewParent() {
        String incoming = " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ";
        String next = Traceparent.next(incoming);
        assertThat(next).matches("00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00")
                .doesNotContain("00f067aa0ba902b7");
        assertThat(Traceparent.traceId(next)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // a zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // a zero parent
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // another version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", // bad flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", // a wrong separator
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // too long
        "00-zz-bad", ""})
    void anInvalidHeaderStartsATrace(String incoming) {
        String next = Traceparent.next(incoming);
        assertThat(next).matches(SHAPE).endsWith("-01").doesNotContain("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    @Test
    void startedTracesAndSpansDiffer() {
        Set<String> traces = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String next = Traceparent.next(null);
            assertThat(next).matches(SHAPE);
            traces.add(Traceparent.traceId(next));
        }
        assertThat(traces).hasSize(1000);
    }
}
