package dev.switchboard.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * The slow tier: a test class that kills or restarts processes, drives a browser, runs real peers or load, or takes
 * more than about 10 seconds. {@code bin/test} runs it, {@code bin/test quick} leaves it out (the Maven profile
 * {@code quick} excludes the JUnit tag {@value #TAG}). Modules whose tests see this module's test classes use this
 * annotation rather than spelling the tag.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Tag(Slow.TAG)
public @interface Slow {
    /** The JUnit tag; the root pom.xml's profile {@code quick} names the same one. */
    String TAG = "slow";
}
