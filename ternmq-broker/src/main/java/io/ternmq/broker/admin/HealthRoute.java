package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import java.util.function.BooleanSupplier;

/**
 * {@code /health/live} and {@code /health/ready}: 200 {@code {"status":"UP"}} or 503 {@code {"status":"DOWN"}},
 * nothing else (they need no credentials, so they tell nothing more).
 */
final class HealthRoute implements AdminRoute {
    private final String path;
    private final BooleanSupplier up;

    private HealthRoute(String path, BooleanSupplier up) {
        this.path = path;
        this.up = up;
    }

    /** Up while the process answers at all. */
    static HealthRoute live() {
        return new HealthRoute("/health/live", () -> true);
    }

    /** Up once the store is recovered and every MQTT listener accepts connections, until they close. */
    static HealthRoute ready(BooleanSupplier ready) {
        return new HealthRoute("/health/ready", ready);
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public Access access() {
        return Access.PUBLIC;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        boolean ok = up.getAsBoolean();
        return CompletableFuture.completedFuture(AdminResponses.text(
                ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                "application/json", ok ? "{\"status\":\"UP\"}\n" : "{\"status\":\"DOWN\"}\n"));
    }
}
