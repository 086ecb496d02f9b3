/**
 * What the server is configured with: limits, socket options, fsync policy, I/O engine. Immutable values.
 */
package dev.switchboard.config;
