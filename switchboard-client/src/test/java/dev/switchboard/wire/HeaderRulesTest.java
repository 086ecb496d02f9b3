package dev.switchboard.wire;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The header rules every transport shares (docs/api.md, "Message envelope"), at each limit and one past it. */
class HeaderRulesTest {

    private static void accepted(Map<String, List<String>> headers) {
        assertThatCode(() -> HeaderRules.validate(headers)).doesNotThrowAnyException();
    }

    private static void refused(Map<String, List<String>> headers, String why) {
        assertThatThrownBy(() -> HeaderRules.validate(headers)).isInstanceOfSatisfying(ApiException.class,
                e -> org.assertj.core.api.Assertions.assertThat(e.code()).isEqualTo(ErrorCode.INVALID_HEADERS))
                .hasMessageContaining(why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "Trace-Id", "x_y.z", "!#$%&'*+-.^_`|~", "trace-id", "0"})
    void namesAreTokens(String name) {
        accepted(Map.of(name, List.of("v")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "a:b", "a(b)", "a\"b", "caf\u00e9", "a\tb", "a\r\nb", "a/b", "{a}"})
    void otherNamesAreRefused(String name) {
        refused(Map.of(name, List.of("v")), "header name");
    }

    @Test
    void valuesAreUtf8TextWithTabButNoOtherControlCharacter() {
        accepted(Map.of("T", List.of("", "caf\u00e9 \u2615", "a\tb", "\"quoted\", commas; and: colons")));
        for (String bad : List.of("a\rb", "a\nb", "a\u0000b", "a\u007fb", "a\u001bb")) {
            refused(Map.of("T", List.of(bad)), "control character");
        }
    }

    @Test
    void aNameNeedsAValue() {
        refused(Map.of("T", List.of()), "has no value");
    }

    @Test
    void limitsAreInclusive() {
        accepted(Map.of("n".repeat(HeaderRules.MAX_NAME_LENGTH), List.of("v")));
        refused(Map.of("n".repeat(HeaderRules.MAX_NAME_LENGTH + 1), List.of("v")), "header name");

        accepted(Map.of("T", List.of("\u00e9".repeat(HeaderRules.MAX_VALUE_BYTES / 2)))); // 2 bytes each
        refused(Map.of("T", List.of("\u00e9".repeat(HeaderRules.MAX_VALUE_BYTES / 2) + "x")), "4097 bytes");

        accepted(Map.of("T", Collections.nCopies(HeaderRules.MAX_FIELDS, "v")));
        refused(Map.of("T", Collections.nCopies(HeaderRules.MAX_FIELDS + 1, "v")), "more than 64 header values");

        Map<String, List<String>> total = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            total.put("H" + i, List.of("v".repeat(HeaderRules.MAX_TOTAL_BYTES / 4 - 2))); // name 2 + value = 4096
        }
        accepted(total);
        total.put("X", List.of(""));
        refused(total, "16385 bytes");
    }
}
