package io.ternmq.broker.security;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Accepts every client. The default while no authentication is configured, which is safe only because the default
 * listener is loopback-only (like Mosquitto 2's local-only mode).
 */
public final class AnonymousAuthenticator implements Authenticator {
    private static final CompletionStage<AuthResult> ACCEPTED = CompletableFuture.completedFuture(AuthResult.ACCEPTED);

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        return ACCEPTED;
    }
}
