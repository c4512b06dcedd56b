package io.ternmq.broker.testing;

import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authenticator;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import static org.awaitility.Awaitility.await;

/** Accepts every client and remembers the address each client id connected from, as authentication was told it. */
public final class AddressRecorder implements Authenticator {
    private final Map<String, String> addresses = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        addresses.put(request.clientId(), request.remoteAddress());
        return CompletableFuture.completedFuture(AuthResult.ACCEPTED);
    }

    /** The address the client authenticated from, waiting for it. */
    public String addressOf(String clientId) {
        await("authentication of " + clientId).until(() -> addresses.containsKey(clientId));
        return addresses.get(clientId);
    }
}
