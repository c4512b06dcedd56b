package io.ternmq.broker.extension;

import io.ternmq.extension.api.ClientInfo;
import io.ternmq.extension.api.ClientLifecycleListener;
import io.ternmq.extension.api.ConnectInboundInterceptor;
import io.ternmq.extension.api.PublishInboundInterceptor;
import io.ternmq.extension.api.PublishOutboundInterceptor;
import io.ternmq.extension.api.ReasonCodes;
import io.ternmq.extension.api.SubscribeInboundInterceptor;

import java.util.ArrayList;
import java.util.List;

/**
 * Every extension's interceptors and lifecycle listeners, as {@code BrokerService} holds them: fixed once the
 * extensions have started, before the first listener opens (so the event loops, started later, see them without a
 * barrier of their own). A kind nobody registered is null, and the protocol's hot path checks exactly that: with no
 * extension, a PUBLISH costs one null check.
 */
public final class Interceptors {
    /** No extension: nothing to run. */
    public static final Interceptors NONE = new Builder().build();

    public final InterceptorChain<ConnectInboundInterceptor, ConnectDecision> connectInbound;
    public final InterceptorChain<PublishInboundInterceptor, PublishDecision> publishInbound;
    /** Null when none; else each with its owner, in order. */
    public final Registered<PublishOutboundInterceptor>[] publishOutbound;
    public final InterceptorChain<SubscribeInboundInterceptor, SubscribeDecision> subscribeInbound;
    public final Registered<ClientLifecycleListener>[] lifecycle;

    /** An interceptor or listener and the extension it belongs to. */
    public record Registered<T>(T target, ExtensionStats owner) {
    }

    private Interceptors(Builder b) {
        connectInbound = b.connectInbound.build();
        publishInbound = b.publishInbound.build();
        publishOutbound = array(b.publishOutbound);
        subscribeInbound = b.subscribeInbound.build();
        lifecycle = array(b.lifecycle);
    }

    @SuppressWarnings({"unchecked", "rawtypes"}) // no generic array creation in Java
    private static <T> Registered<T>[] array(List<Registered<T>> list) {
        return list.isEmpty() ? null : list.toArray(new Registered[0]);
    }

    /** Collects registrations while the extensions start. */
    public static final class Builder {
        final InterceptorChain.Builder<ConnectInboundInterceptor, ConnectDecision> connectInbound =
                new InterceptorChain.Builder<>("ConnectInbound", (i, d) -> i.onConnect(d, d));
        final InterceptorChain.Builder<PublishInboundInterceptor, PublishDecision> publishInbound =
                new InterceptorChain.Builder<>("PublishInbound", (i, d) -> i.onInboundPublish(d.client(), d));
        final List<Registered<PublishOutboundInterceptor>> publishOutbound = new ArrayList<>();
        final InterceptorChain.Builder<SubscribeInboundInterceptor, SubscribeDecision> subscribeInbound =
                new InterceptorChain.Builder<>("SubscribeInbound", (i, d) -> i.onSubscribe(d.client(), d));
        final List<Registered<ClientLifecycleListener>> lifecycle = new ArrayList<>();

        public Interceptors build() {
            return new Interceptors(this);
        }
    }

    // ------------------------------------------------------------------ synchronous interceptors

    /**
     * Runs the PublishOutbound interceptors over one delivery (receiver's loop). A throw leaves the delivery as it
     * was and is counted.
     */
    public void outbound(String receiverClientId, OutboundDecision d) {
        for (Registered<PublishOutboundInterceptor> r : publishOutbound) {
            long t0 = System.nanoTime();
            try {
                r.target().onOutboundPublish(receiverClientId, d);
            } catch (RuntimeException | LinkageError e) {
                r.owner().error("PublishOutbound", e);
            }
            r.owner().timed(System.nanoTime() - t0);
            if (d.skipped()) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle events (the caller's loop)

    public void connected(ClientInfo client) {
        for (Registered<ClientLifecycleListener> r : lifecycle) {
            long t0 = System.nanoTime();
            try {
                r.target().onConnected(client);
            } catch (RuntimeException | LinkageError e) {
                r.owner().error("onConnected", e);
            }
            r.owner().timed(System.nanoTime() - t0);
        }
    }

    public void disconnected(ClientInfo client, boolean graceful) {
        for (Registered<ClientLifecycleListener> r : lifecycle) {
            long t0 = System.nanoTime();
            try {
                r.target().onDisconnected(client, graceful);
            } catch (RuntimeException | LinkageError e) {
                r.owner().error("onDisconnected", e);
            }
            r.owner().timed(System.nanoTime() - t0);
        }
    }

    public void authenticationFailed(ClientInfo client, int reasonCode) {
        for (Registered<ClientLifecycleListener> r : lifecycle) {
            long t0 = System.nanoTime();
            try {
                r.target().onAuthenticationFailed(client, reasonCode);
            } catch (RuntimeException | LinkageError e) {
                r.owner().error("onAuthenticationFailed", e);
            }
            r.owner().timed(System.nanoTime() - t0);
        }
    }

    public void sessionExpired(String clientId) {
        if (lifecycle == null) {
            return;
        }
        for (Registered<ClientLifecycleListener> r : lifecycle) {
            long t0 = System.nanoTime();
            try {
                r.target().onSessionExpired(clientId);
            } catch (RuntimeException | LinkageError e) {
                r.owner().error("onSessionExpired", e);
            }
            r.owner().timed(System.nanoTime() - t0);
        }
    }
}
