/**
 * The one {@code switchboard} command: {@code serve} and every client and load-tool command, in one jar.
 */
package dev.switchboard.dist;
