package dev.switchboard.auth;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How fast callers may publish ({@code --max-publish-rate}, {@code --max-publish-rate-per-subject}): a token bucket
 * (Bucket4j) per connection and one per token subject, each refilled at the rate per second and holding one second's
 * worth, so a burst up to the rate passes at once. A refused publish takes nothing from either bucket. 0 means no
 * limit, and then no bucket exists at all.
 */
public final class PublishLimiter {
    /** Past this many subjects, buckets that are full again are dropped: a full bucket is what a new one would be. */
    private static final int SWEEP_ABOVE = 10_000;

    private final int perConnection;
    private final int perSubject;
    private final ConcurrentHashMap<String, Bucket> subjects = new ConcurrentHashMap<>();
    private final Counter refusedByConnection;
    private final Counter refusedBySubject;

    public PublishLimiter(int perConnection, int perSubject, MeterRegistry metrics) {
        this.perConnection = perConnection;
        this.perSubject = perSubject;
        this.refusedByConnection = refused(metrics, "connection");
        this.refusedBySubject = refused(metrics, "subject");
    }

    private static Counter refused(MeterRegistry metrics, String scope) {
        return Counter.builder("switchboard.publish.rate_limited").tag("scope", scope)
                .description("Publishes refused (429) for going over a publish rate").register(metrics);
    }

    /** The budget of one new connection. */
    public Budget connection() {
        return new Budget(perConnection > 0 ? bucket(perConnection) : null);
    }

    private static Bucket bucket(int perSecond) {
        return Bucket.builder().addLimit(Bandwidth.builder().capacity(perSecond)
                .refillGreedy(perSecond, Duration.ofSeconds(1)).build()).build();
    }

    /** One connection's publish budget; {@link #admit} is called for each publish it carries. */
    public final class Budget {
        private final Bucket bucket;

        private Budget(Bucket bucket) {
            this.bucket = bucket;
        }

        /** Admits {@code messages} publishes of {@code subject} over this connection, or refuses them all (429). */
        public void admit(String subject, int messages) {
            if (bucket != null && !bucket.tryConsume(messages)) {
                refusedByConnection.increment();
                throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "this connection may publish at most " + perConnection
                        + " messages per second (--max-publish-rate); retry later");
            }
            if (perSubject > 0 && !subjectBucket(subject).tryConsume(messages)) {
                if (bucket != null) {
                    bucket.addTokens(messages); // refused: what the connection's bucket gave is given back
                }
                refusedBySubject.increment();
                throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "'" + subject + "' may publish at most " + perSubject
                        + " messages per second (--max-publish-rate-per-subject); retry later");
            }
        }
    }

    private Bucket subjectBucket(String subject) {
        Bucket b = subjects.get(subject);
        if (b != null) {
            return b;
        }
        if (subjects.size() > SWEEP_ABOVE) {
            subjects.values().removeIf(full -> full.getAvailableTokens() >= perSubject);
        }
        return subjects.computeIfAbsent(subject, s -> bucket(perSubject));
    }
}
