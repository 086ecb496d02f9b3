package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PrometheusTextTest {

    @Test
    void readsFamiliesLabelsEscapesAndSpecialValues() {
        PrometheusText p = PrometheusText.parse("""
                # HELP requests_total Requests.
                # TYPE requests_total counter
                requests_total{path="/a\\"b\\\\c\\nd",code="200"} 3.0
                # TYPE lag_seconds histogram
                lag_seconds_bucket{le="0.5"} 1
                lag_seconds_bucket{le="+Inf"} 2 1700000000000
                lag_seconds_count 2
                lag_seconds_sum 1.25
                # TYPE up gauge
                up NaN
                """);
        assertThat(p.value("requests_total", "path", "/a\"b\\c\nd", "code", "200")).isEqualTo(3.0);
        assertThat(p.value("lag_seconds_bucket", "le", "+Inf")).isEqualTo(2.0);
        assertThat(p.value("lag_seconds_sum")).isEqualTo(1.25);
        assertThat(p.value("up")).isNaN();
        assertThat(p.type("lag_seconds")).isEqualTo("histogram");
        assertThat(p.has("lag_seconds_count")).isTrue();
    }

    @Test
    void refusesWhatAScraperWouldRefuse() {
        assertThatThrownBy(() -> PrometheusText.parse("undeclared 1\n")).hasMessageContaining("without # TYPE");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na{x=\"1\" 1\n"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na one\n"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na 1\na 2\n")).hasMessageContaining("twice");
    }
}
