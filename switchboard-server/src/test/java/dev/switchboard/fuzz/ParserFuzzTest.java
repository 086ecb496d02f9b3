package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.switchboard.auth.Authenticator;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.auth.NamePattern;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.StreamCursor;
import dev.switchboard.testing.Tokens;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzz tests (Jazzer) of the parsers that take client input directly: every input is either accepted
 * as something valid or refused with its error code, never with another exception. A normal test run replays the
 * seeds in {@code src/test/resources/dev/switchboard/fuzz/ParserFuzzTestInputs/<method>/} (docs/architecture.md,
 * "Fuzz tests", says how to fuzz one target for new inputs). Seeds are the input text as is; where a target takes
 * two strings they are separated by the first line break.
 */
class ParserFuzzTest {
    private static final Set<ErrorCode> TOKEN_REFUSALS = Set.of(ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED);
    private static final char[] BASE64URL =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".toCharArray();
    private static Tokens tokens;
    private static Authenticator authenticator;
    private static String validToken;

    @BeforeAll
    static void keys() throws IOException {
        tokens = Tokens.hs256InTempDir();
        authenticator = JwtAuthenticator.create(tokens.config());
        validToken = tokens.sign(Tokens.claims("alice", Tokens.rights(List.of("a.>"), List.of(), List.of(), List.of(),
                false)));
    }

    @AfterAll
    static void removeKeys() {
        tokens.deleteSecret();
    }

    @FuzzTest
    void durationsParseToWhatTheyFormatOrAreRefused(FuzzedDataProvider data) {
        assertDurationOrRefused(data.consumeRemainingAsString());
    }

    private static void assertDurationOrRefused(String text) {
        try {
            Duration d = Durations.parse(text, "wait");
            assertThat(d.isNegative()).isFalse();
            assertThat(Durations.parse(Durations.format(d), "wait")).isEqualTo(d);
        } catch (ApiException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DURATION);
        }
    }

    @FuzzTest
    void offsetsParseOrAreRefused(FuzzedDataProvider data) {
        assertOffsetOrRefused(data.consumeRemainingAsString());
    }

    private static void assertOffsetOrRefused(String text) {
        try {
            StartPosition p = StartPosition.parse(text, StartPosition.NEXT);
            if (p instanceof StartPosition.AtOffset at) {
                assertThat(at.offset()).isPositive();
            }
        } catch (ApiException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FROM);
        }
    }

    /**
     * A request target as the HTTP codec hands it over: its path and query values are read or refused as a bad
     * encoding or a repeated parameter, and the {@code from} and {@code wait} values go on to their parsers.
     */
    @FuzzTest
    void pathsAndQueryValuesParseOrAreRefused(FuzzedDataProvider data) {
        String target = data.consumeRemainingAsString();
        DefaultFullHttpRequest request;
        try {
            request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target);
        } catch (IllegalArgumentException refusedByNetty) {
            return; // Netty's decoder refuses such a request line (400) before any handler sees it
        }
        Exchange exchange = new Exchange(null, request, null, Duration.ZERO, 0, null);
        try {
            assertThat(exchange.path()).doesNotContain("?");
        } catch (ApiException e) {
            assertThat(e.code()).as(target).isEqualTo(ErrorCode.INVALID_URI);
        }
        String from;
        String wait;
        try {
            from = exchange.query("from");
            wait = exchange.query("wait");
        } catch (ApiException e) {
            assertThat(e.code()).as(target).isIn(ErrorCode.INVALID_URI, ErrorCode.INVALID_QUERY);
            return;
        }
        assertOffsetOrRefused(from);
        if (wait != null) {
            assertDurationOrRefused(wait);
        }
    }

    /** Any input, cut down to name characters, is a valid name that matches itself and the wildcards that cover it. */
    @FuzzTest
    void everyValidNameMatchesItselfAndTheWildcards(FuzzedDataProvider data) {
        String name = asName(data.consumeRemainingAsString());
        if (name.isEmpty()) {
            return;
        }
        assertThat(TopicNames.isValid(name)).as(name).isTrue();
        assertThat(NamePattern.parse(name).matches(name)).isTrue();
        assertThat(NamePattern.parse(">").matches(name)).isTrue();
        assertThat(NamePattern.parse("*").matches(name)).isEqualTo(!name.contains("."));
        String first = name.split("\\.")[0];
        if (first.length() + 2 <= TopicNames.MAX_LENGTH) { // a pattern is as long as a name at most
            assertThat(NamePattern.parse(first + ".>").matches(name)).isEqualTo(name.contains("."));
        }
    }

    private static String asName(String text) {
        String kept = text.chars().filter(c -> c == '.' || c == '_' || c == '-' || (c >= 'a' && c <= 'z')
                        || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        String joined = Arrays.stream(kept.split("\\.")).filter(s -> !s.isEmpty()).collect(Collectors.joining("."));
        String name = joined.substring(0, Math.min(joined.length(), TopicNames.MAX_LENGTH));
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** Pattern, line break, name: the pattern is refused or never matches the name when the name is invalid. */
    @FuzzTest
    void patternsParseOrAreRefusedAndNeverMatchAnInvalidName(FuzzedDataProvider data) {
        String[] patternAndName = data.consumeRemainingAsString().split("\n", 2);
        String text = patternAndName[0];
        String name = patternAndName.length > 1 ? patternAndName[1] : "";
        NamePattern p;
        try {
            p = NamePattern.parse(text);
        } catch (IllegalArgumentException refused) {
            return;
        }
        if (!TopicNames.isValid(name)) {
            assertThat(p.matches(name)).as("pattern %s, name %s", text, name).isFalse();
        }
    }

    /**
     * Right, line break, pattern, line break, name: when the right covers the pattern, every name the pattern
     * matches, the right matches too (a pattern never reads beyond what the token allows).
     */
    @FuzzTest
    void aCoveringRightMatchesEveryNameThePatternMatches(FuzzedDataProvider data) {
        String[] parts = data.consumeRemainingAsString().split("\n", 3);
        if (parts.length < 3) {
            return;
        }
        NamePattern right;
        NamePattern pattern;
        try {
            right = NamePattern.parse(parts[0]);
            pattern = NamePattern.parse(parts[1]);
        } catch (IllegalArgumentException refused) {
            return;
        }
        if (right.covers(pattern) && pattern.matches(parts[2])) {
            assertThat(right.matches(parts[2])).as("%s covers %s, which matches %s", right, pattern, parts[2])
                    .isTrue();
        }
    }

    /** A stream's cursor is decoded to valid names and offsets that encode back to the same, or refused. */
    @FuzzTest
    void streamCursorsDecodeOrAreRefused(FuzzedDataProvider data) {
        String cursor = data.consumeRemainingAsString();
        SortedMap<String, Long> next;
        try {
            next = StreamCursor.decode(cursor);
        } catch (ApiException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FROM);
            return;
        }
        assertThat(next).allSatisfy((topic, offset) -> {
            assertThat(TopicNames.isValid(topic)).as(topic).isTrue();
            assertThat(offset).isPositive();
        });
        SortedMap<String, Long> beyondOne = new TreeMap<>(next);
        beyondOne.values().removeIf(offset -> offset == 1);
        assertThat(StreamCursor.decode(StreamCursor.encode(next))).isEqualTo(beyondOne);
    }

    @FuzzTest
    void anyStringAsATokenIsRefusedAsUnauthorized(FuzzedDataProvider data) {
        String token = data.consumeRemainingAsString();
        ApiException e = catchThrowableOfType(ApiException.class, () -> authenticator.verify(token));
        assertThat(e).as(token).isNotNull();
        assertThat(e.code()).isIn(TOKEN_REFUSALS);
    }

    /**
     * Any change of one character of the header or claims is caught by the signature. The input's last byte picks
     * the new character (of the base64url alphabet), the two before it the position (low byte first).
     */
    @FuzzTest
    void aTamperedTokenIsRefused(FuzzedDataProvider data) {
        char to = data.pickValue(BASE64URL);
        int at = data.consumeInt(0, 10_000);
        int claimsEnd = validToken.lastIndexOf('.');
        int position = at % claimsEnd;
        // The last character of a segment may carry bits base64 ignores: changing them changes nothing signed.
        boolean lastOfSegment = position + 1 < validToken.length() && validToken.charAt(position + 1) == '.';
        if (validToken.charAt(position) == '.' || lastOfSegment || validToken.charAt(position) == to) {
            return;
        }
        String tampered = validToken.substring(0, position) + to + validToken.substring(position + 1);
        ApiException e = catchThrowableOfType(ApiException.class, () -> authenticator.verify(tampered));
        assertThat(e).as("accepted: %s", tampered).isNotNull();
        assertThat(e.code()).isIn(TOKEN_REFUSALS);
    }
}
