package io.ternmq.extension.api;

import java.nio.file.Path;

/**
 * What the broker gives an extension at {@link ExtensionMain#start}: where to register its interceptors and
 * listeners, and the broker's services. Broker-owned: do not implement. The {@code add} methods may be called only
 * during {@code start}; later they throw {@link IllegalStateException}. The services may be used from any thread, at
 * any time until {@link ExtensionMain#stop} returns.
 *
 * @since 0.1
 */
public interface ExtensionContext {
    /** {@code id} from {@code ternmq-extension.properties}. @since 0.1 */
    String id();

    /** {@code version} from {@code ternmq-extension.properties}. @since 0.1 */
    String version();

    /** The extension's folder (its own files may live there). @since 0.1 */
    Path folder();

    /** @since 0.1 */
    void addConnectInbound(ConnectInboundInterceptor interceptor);

    /** @since 0.1 */
    void addPublishInbound(PublishInboundInterceptor interceptor);

    /** @since 0.1 */
    void addPublishOutbound(PublishOutboundInterceptor interceptor);

    /** @since 0.1 */
    void addSubscribeInbound(SubscribeInboundInterceptor interceptor);

    /** @since 0.1 */
    void addClientLifecycleListener(ClientLifecycleListener listener);

    /** @since 0.1 */
    PublishService publishService();

    /** @since 0.1 */
    SubscriptionService subscriptionService();

    /** @since 0.1 */
    ClientService clientService();

    /** @since 0.1 */
    RetainedService retainedService();

    /** The bounded pool shared by every extension, for work that must not run on an event loop. @since 0.1 */
    ExtensionExecutor executor();

    /** Counters of this extension's own. @since 0.1 */
    MetricsService metrics();
}
