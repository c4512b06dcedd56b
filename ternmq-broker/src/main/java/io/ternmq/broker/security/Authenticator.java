package io.ternmq.broker.security;

import java.util.concurrent.CompletionStage;

/**
 * Decides whether a CONNECT may proceed. Asynchronous so that a slow backend (an HTTP service, a database) never
 * blocks an event loop: the broker continues the CONNECT when the stage completes, on the connection's loop. An
 * implementation that knows at once returns a completed stage and costs nothing extra.
 */
public interface Authenticator {

    CompletionStage<AuthResult> authenticate(AuthRequest request);
}
