package io.ternmq.broker.bridge;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ClientIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The access rules of a bridge's {@code local_username} (the first listener's acl_file or plugin) for what it
 * subscribes, publishes and receives here; everything is allowed without a {@code local_username}.
 */
final class BridgeAccess {
    private static final Logger LOG = LoggerFactory.getLogger(BridgeAccess.class);

    private final String bridgeName;
    private final Authorizer authorizer;
    /** Who the bridge is to the authorizer: local_clientid with local_username. */
    private final ClientIdentity identity;

    BridgeAccess(BridgeSettings settings, Authorizer authorizer) {
        this.bridgeName = settings.name();
        this.authorizer = settings.localUsername() == null ? Authorizer.ALLOW_ALL : authorizer;
        this.identity = ClientIdentity.of(settings.localClientId(), settings.localUsername(), null, "bridge",
                "bridge " + settings.name());
    }

    boolean maySubscribe(String filter) {
        return allowed(authorizer.maySubscribe(identity, filter));
    }

    boolean mayPublish(String topic) {
        return allowed(authorizer.mayPublish(identity, topic));
    }

    boolean mayReceive(String topic) {
        return authorizer.mayReceive(identity, topic);
    }

    /**
     * An authorization answer the bridge cannot wait for (it would reorder messages): an answer not ready at once
     * (an HTTP plugin's) counts as a refusal, logged. File ACLs answer at once.
     */
    private boolean allowed(CompletionStage<Boolean> answer) {
        CompletableFuture<Boolean> f = answer.toCompletableFuture();
        if (!f.isDone()) {
            LOG.warn("Bridge {}: the authorizer did not answer at once; refused", bridgeName);
            return false;
        }
        return !f.isCompletedExceptionally() && Boolean.TRUE.equals(f.getNow(false));
    }
}
