package dev.switchboard.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every API error code becomes the exception class of what a caller can do about it, carrying the code. */
class ErrorsTest {
    private static final Map<ErrorCode, Class<? extends SwitchboardException>> EXPECTED = new EnumMap<>(ErrorCode.class);

    static {
        for (ErrorCode c : ErrorCode.values()) {
            EXPECTED.put(c, InvalidRequestException.class);
        }
        for (ErrorCode c : new ErrorCode[] {ErrorCode.NOT_FOUND, ErrorCode.TOPIC_NOT_FOUND, ErrorCode.JOB_NOT_FOUND,
                ErrorCode.QUEUE_NOT_FOUND, ErrorCode.NOT_SUBSCRIBED, ErrorCode.GROUP_NOT_FOUND}) {
            EXPECTED.put(c, NotFoundException.class);
        }
        for (ErrorCode c : new ErrorCode[] {ErrorCode.JOB_FINISHED, ErrorCode.JOB_NOT_SUCCEEDED, ErrorCode.LEASE_EXPIRED,
                ErrorCode.LEASE_LOST}) {
            EXPECTED.put(c, ConflictException.class);
        }
        EXPECTED.put(ErrorCode.PAYLOAD_TOO_LARGE, LimitExceededException.class);
        EXPECTED.put(ErrorCode.LIMIT_EXCEEDED, LimitExceededException.class);
        for (ErrorCode c : new ErrorCode[] {ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED, ErrorCode.FORBIDDEN,
                ErrorCode.ORIGIN_NOT_ALLOWED, ErrorCode.HOST_NOT_ALLOWED}) {
            EXPECTED.put(c, NotAuthorizedException.class);
        }
        EXPECTED.put(ErrorCode.UNAVAILABLE, UnavailableException.class);
        EXPECTED.put(ErrorCode.TIMEOUT, UnavailableException.class);
        EXPECTED.put(ErrorCode.INTERNAL, ServerFaultException.class);
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void eachCodeHasItsTypedException(ErrorCode code) {
        String body = "{\"error\":{\"code\":\"" + code.wire() + "\",\"message\":\"why\"}}";
        SwitchboardException e = Errors.of(418, body.getBytes(StandardCharsets.UTF_8));
        assertThat(e).isExactlyInstanceOf(EXPECTED.get(code));
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.wireCode()).isEqualTo(code.wire());
        assertThat(e.status()).isEqualTo(418);
        assertThat(e.getMessage()).isEqualTo(code.wire() + ": why");
        assertThat(e.retryable()).isEqualTo(code == ErrorCode.UNAVAILABLE || code == ErrorCode.TIMEOUT);
    }

    @Test
    void codesOutsideTheEnumKeepTheirWireName() {
        SwitchboardException deleted = Errors.of("topic_deleted", 0, "gone");
        assertThat(deleted).isInstanceOf(NotFoundException.class);
        assertThat(deleted.code()).isNull();
        assertThat(deleted.wireCode()).isEqualTo("topic_deleted");
        assertThat(Errors.of("uri_too_long", 414, "long")).isInstanceOf(InvalidRequestException.class);
        assertThat(Errors.of("something_new", 400, "?")).isInstanceOf(ServerFaultException.class);
    }

    @Test
    void aBodyThatIsNotTheErrorShapeIsNamedByItsStatus() {
        SwitchboardException e = Errors.of(502, "<html>bad gateway</html>".getBytes(StandardCharsets.UTF_8));
        assertThat(e).isInstanceOf(ServerFaultException.class);
        assertThat(e.wireCode()).isEqualTo("http_502");
        assertThat(e.getMessage()).contains("HTTP 502: <html>bad gateway</html>");
        assertThat(Errors.of(503, new byte[0])).isInstanceOf(UnavailableException.class);
    }
}
