package io.ternmq.broker.security;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides what an authenticated client may do with topics. Publishing and subscribing are decided asynchronously,
 * so that a slow backend never blocks an event loop (the connection holds its later packets until the answer, which
 * keeps their order); an implementation that knows at once returns a completed stage. Receiving is decided for each
 * delivery and must answer at once (from memory or a cache).
 */
public interface Authorizer {

    /** Allows everything: the default while no ACL is configured. */
    Authorizer ALLOW_ALL = new Authorizer() {
        private final CompletionStage<Boolean> yes = CompletableFuture.completedFuture(true);

        @Override
        public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
            return yes;
        }

        @Override
        public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
            return yes;
        }
    };

    /** Whether the client may publish to this topic name (also checked for its will). */
    CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic);

    /** Whether the client may subscribe with this topic filter (shared filters are passed whole). */
    CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter);

    /**
     * Whether a message on this topic name may be delivered to the client, checked for every delivery so that a
     * wide subscription ({@code a/#}) never delivers a topic the client may not read ({@code a/secret/x}).
     */
    default boolean mayReceive(ClientIdentity client, String topic) {
        return true;
    }
}
