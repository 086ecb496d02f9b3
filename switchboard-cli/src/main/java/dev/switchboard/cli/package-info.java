/**
 * The command-line client: {@code switchboard pub}, {@code sub} and {@code jobs}, with the picocli helpers the other
 * commands share (environment defaults, duration and enum options).
 *
 * <p>Threads: each command runs on the main thread plus the JDK HTTP client's threads.
 */
package dev.switchboard.cli;
