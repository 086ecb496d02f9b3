package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A {@link Transaction} for tests: {@code body} stages its changes; the engine's calls are kept in order
 * ({@code stage}, {@code durable}, {@code committed} or {@code failed}) and its outcome is a future. Override a hook
 * (calling {@code super}) to make it misbehave.
 */
public class TestTransaction implements Transaction {
    private final Consumer<Stage> body;
    private final CompletableFuture<Void> outcome = new CompletableFuture<>();
    private final List<String> calls = new CopyOnWriteArrayList<>();

    public TestTransaction(Consumer<Stage> body) {
        this.body = body;
    }

    /** Completes when the engine calls {@link #committed}; fails with the refusal when it calls {@link #failed}. */
    public CompletableFuture<Void> outcome() {
        return outcome;
    }

    /** The engine's calls so far, in order. */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void stage(Stage stage) {
        calls.add("stage");
        body.accept(stage);
    }

    @Override
    public void durable() {
        calls.add("durable");
    }

    @Override
    public void committed() {
        calls.add("committed");
        outcome.complete(null);
    }

    @Override
    public void failed(ApiException error) {
        calls.add("failed");
        outcome.completeExceptionally(error);
    }
}
