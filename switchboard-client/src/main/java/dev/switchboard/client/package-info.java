/**
 * The Switchboard client library: start at {@link dev.switchboard.client.Switchboard}, whose Javadoc gives the thread
 * model. Topics (publish, fetch, poll, subscribe over WebSocket, SSE or long polling) and jobs (submit, call,
 * workers), each blocking or asynchronous; failures are {@link dev.switchboard.client.SwitchboardException}s carrying
 * the API error code. docs/client.md has a runnable example per pattern.
 *
 * <p>The implementation is package-private in this package ({@code Client}, {@code Rest}, {@code SubscriptionImpl}
 * and its readers, {@code WorkerImpl}): hidden from applications, and free to change.
 */
package dev.switchboard.client;
