package io.ternmq.broker.security;

import java.util.concurrent.CompletionStage;

/**
 * One enhanced authentication conversation with one client. Asynchronous so that a mechanism that consults a slow
 * store never blocks an event loop; the broker calls it from one connection at a time, never concurrently.
 */
public interface AuthExchange {

    /**
     * Takes the client's next Authentication Data (from CONNECT or AUTH; null if it sent none) and decides: send a
     * challenge and wait for the client's answer, succeed, or fail.
     */
    CompletionStage<AuthStep> respond(byte[] clientData);
}
