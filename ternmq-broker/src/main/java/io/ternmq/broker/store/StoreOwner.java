package io.ternmq.broker.store;

/**
 * The owner of a session's stored state (subscriptions, inbound QoS 2 ids, queue): a client id and the epoch of
 * the session's incarnation, joined by NUL (which no client id contains). Those keys start with it, so an ended
 * session's leftovers never mix with a new session of the same client.
 */
public final class StoreOwner {
    private StoreOwner() {
    }

    public static String of(String clientId, long epoch) {
        return clientId + '\0' + Long.toHexString(epoch);
    }
}
