package dev.switchboard.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The rules no HTTP test reaches: the refusals JobLeaseTest and JobApiTest do not send, and the edge of each range,
 * which must be accepted. The refusals they do send (oversized and non-JSON bodies, long types and keys, bad waits,
 * leases and progress, missing tokens, maxAttempts 0, lease 0s) are tested there, with "nothing changed".
 */
class JobRulesTest {
    private static final byte[] BODY = {'x'};

    private final JobRules rules = new JobRules(Limits.defaults());

    @Test
    void anEmptyIdempotencyKeyIsRefused() {
        assertRefused(() -> rules.checkSubmit("q", "text/plain", BODY, ""), ErrorCode.INVALID_IDEMPOTENCY_KEY);
    }

    @Test
    void aFailureErrorLongerThan4096CharsIsRefused() {
        assertRefused(() -> rules.failReason("e".repeat(4097)), ErrorCode.INVALID_ERROR);
    }

    @Test
    void aFailureWithoutAnErrorRecordsFailed() {
        assertThat(rules.failReason(null)).isEqualTo("failed");
        assertThat(rules.failReason(" ")).isEqualTo("failed");
        assertThat(rules.failReason("e".repeat(4096))).hasSize(4096);
    }

    @Test
    void queueSettingsOutOfRangeAreRefused() {
        QueueSettings d = QueueSettings.DEFAULTS;
        assertRefused(() -> rules.checkSettings("q", new QueueSettings(101, d.lease(), d.resultTtl())),
                ErrorCode.INVALID_QUEUE);
        assertRefused(() -> rules.checkSettings("q", new QueueSettings(3, Duration.ofMillis(999), d.resultTtl())),
                ErrorCode.INVALID_QUEUE);
        assertRefused(() -> rules.checkSettings("q", new QueueSettings(3, Duration.ofHours(24).plusMillis(1),
                d.resultTtl())), ErrorCode.INVALID_QUEUE);
        assertRefused(() -> rules.checkSettings("q", new QueueSettings(3, d.lease(), Duration.ofMillis(999))),
                ErrorCode.INVALID_QUEUE);
        assertRefused(() -> rules.checkSettings("q", new QueueSettings(3, d.lease(), Duration.ofDays(366))),
                ErrorCode.INVALID_QUEUE);
        assertRefused(() -> rules.checkSettings("bad..name", d), ErrorCode.INVALID_TOPIC);
    }

    @Test
    void theEdgeOfEachRangeIsAccepted() {
        Duration min = Duration.ofSeconds(1);
        Duration day = Duration.ofHours(24);
        assertThatCode(() -> {
            rules.checkSettings("q", new QueueSettings(1, min, min));
            rules.checkSettings("q", new QueueSettings(100, day, Duration.ofDays(365)));
            rules.checkClaim("q", 1, Limits.defaults().maxWait(), min);
            rules.checkClaim("q", 100, Duration.ZERO, day);
            rules.checkClaim("q", 1, Duration.ZERO, null);
            rules.checkSubmit("q", "t".repeat(255), new byte[Limits.defaults().maxMessageBytes()], "k".repeat(255));
            rules.checkProgress(0, "m".repeat(1024));
            rules.checkProgress(100, null);
            rules.checkResult("application/json", "{}".getBytes());
            rules.checkLeaseToken("t");
        }).doesNotThrowAnyException();
    }

    private static void assertRefused(ThrowingCallable check, ErrorCode code) {
        assertThatThrownBy(check).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).isNotBlank();
        });
    }
}
