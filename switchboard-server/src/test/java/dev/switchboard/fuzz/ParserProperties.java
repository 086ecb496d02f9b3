package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.switchboard.auth.Authenticator;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.auth.NamePattern;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.testing.Tokens;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Properties of the parsers that take client input directly, each run for a bounded number of generated inputs
 * (jqwik; failing cases are kept in {@code .jqwik-database} and tried first next time): every input is either
 * accepted as something valid or refused with its error code, never with another exception.
 */
class ParserProperties {
    private static final Set<ErrorCode> TOKEN_REFUSALS = Set.of(ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED);
    private static Tokens tokens;
    private static Authenticator authenticator;
    private static String validToken;

    @BeforeContainer
    static void keys() throws IOException {
        tokens = Tokens.hs256InTempDir();
        authenticator = JwtAuthenticator.create(tokens.config());
        validToken = tokens.sign(Tokens.claims("alice", Tokens.rights(List.of("a.>"), List.of(), List.of(), List.of(),
                false)));
    }

    @AfterContainer
    static void removeKeys() {
        tokens.deleteSecret();
    }

    @Property(tries = 2000)
    void durationsParseToWhatTheyFormatOrAreRefused(@ForAll("durationLike") String text) {
        try {
            Duration d = Durations.parse(text, "wait");
            assertThat(d.isNegative()).isFalse();
            assertThat(Durations.parse(Durations.format(d), "wait")).isEqualTo(d);
        } catch (ApiException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DURATION);
        }
    }

    @Property(tries = 2000)
    void offsetsParseOrAreRefused(@ForAll("offsetLike") String text) {
        try {
            StartPosition p = StartPosition.parse(text, StartPosition.NEXT);
            if (p instanceof StartPosition.AtOffset at) {
                assertThat(at.offset()).isPositive();
            }
        } catch (ApiException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FROM);
        }
    }

    @Property(tries = 1000)
    void everyValidNameMatchesItselfAndTheWildcards(@ForAll("topicNames") String name) {
        assertThat(TopicNames.isValid(name)).isTrue();
        assertThat(NamePattern.parse(name).matches(name)).isTrue();
        assertThat(NamePattern.parse(">").matches(name)).isTrue();
        assertThat(NamePattern.parse("*").matches(name)).isEqualTo(!name.contains("."));
        String first = name.split("\\.")[0];
        assertThat(NamePattern.parse(first + ".>").matches(name)).isEqualTo(name.contains("."));
    }

    @Property(tries = 2000)
    void patternsParseOrAreRefusedAndNeverMatchAnInvalidName(@ForAll("patternLike") String text,
                                                             @ForAll("patternLike") String name) {
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

    @Property(tries = 2000)
    void anyStringAsATokenIsRefusedAsUnauthorized(@ForAll("tokenLike") String token) {
        ApiException e = catchThrowableOfType(ApiException.class, () -> authenticator.verify(token));
        assertThat(e).as(token).isNotNull();
        assertThat(e.code()).isIn(TOKEN_REFUSALS);
    }

    /** Any change of one character of the header or claims is caught by the signature. */
    @Property(tries = 1000)
    void aTamperedTokenIsRefused(@ForAll @IntRange(min = 0, max = 10_000) int at, @ForAll("base64url") char to) {
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

    @Provide
    Arbitrary<String> durationLike() {
        return Arbitraries.oneOf(
                Arbitraries.strings().withChars("0123456789mshd -+.xµ").ofMaxLength(24),
                Combinators.combine(Arbitraries.longs(), Arbitraries.of("ms", "s", "m", "h", "d", "", "S"))
                        .as((n, unit) -> n + unit),
                Arbitraries.strings().ofMaxLength(30));
    }

    @Provide
    Arbitrary<String> offsetLike() {
        return Arbitraries.oneOf(
                Arbitraries.of("next", "earliest", "latest", "", "0", "-1", "1", "9223372036854775807",
                        "9223372036854775808", "18446744073709551617", " 1", "1 ", "+1", "0x10", "1e3"),
                Arbitraries.strings().withChars("0123456789-+ exnt").ofMaxLength(25),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.strings().ofMaxLength(30));
    }

    @Provide
    Arbitrary<String> topicNames() {
        Arbitrary<String> segment = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z')
                .withCharRange('0', '9').withChars('_', '-').ofMinLength(1).ofMaxLength(12);
        return segment.list().ofMinSize(1).ofMaxSize(6).map(s -> String.join(".", s));
    }

    @Provide
    Arbitrary<String> patternLike() {
        return Arbitraries.strings().withChars("ab.*>{}_-/ 1").ofMaxLength(16);
    }

    @Provide
    Arbitrary<String> tokenLike() {
        return Arbitraries.oneOf(
                Arbitraries.strings().withCharRange('A', 'z').withChars('.', '-', '_', '=').ofMaxLength(400),
                Arbitraries.strings().ofMaxLength(200),
                Arbitraries.strings().withChars("eyJ.").ofMaxLength(60));
    }

    @Provide
    Arbitrary<Character> base64url() {
        return Arbitraries.chars().range('A', 'Z').range('a', 'z').range('0', '9').with('-', '_');
    }

}
