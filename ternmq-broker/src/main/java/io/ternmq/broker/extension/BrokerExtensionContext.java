package io.ternmq.broker.extension;

import io.ternmq.extension.api.ClientLifecycleListener;
import io.ternmq.extension.api.ClientService;
import io.ternmq.extension.api.ConnectInboundInterceptor;
import io.ternmq.extension.api.ExtensionContext;
import io.ternmq.extension.api.ExtensionExecutor;
import io.ternmq.extension.api.MetricsService;
import io.ternmq.extension.api.PublishInboundInterceptor;
import io.ternmq.extension.api.PublishOutboundInterceptor;
import io.ternmq.extension.api.PublishService;
import io.ternmq.extension.api.RetainedService;
import io.ternmq.extension.api.SubscribeInboundInterceptor;
import io.ternmq.extension.api.SubscriptionService;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;

/**
 * What one extension gets at start. Its registrations are kept apart until its {@code start} returns, so that an
 * extension that throws leaves nothing behind in the chains.
 */
final class BrokerExtensionContext implements ExtensionContext, ExtensionExecutor {
    private final ExtensionDescriptor descriptor;
    private final ExtensionStats stats;
    private final ExtensionServices services;
    private final SharedExtensionExecutor executor;
    private final ExtensionMetrics metrics = new ExtensionMetrics();
    private final List<Runnable> registrations = new ArrayList<>();
    private final Interceptors.Builder chains;
    private volatile boolean starting = true;

    BrokerExtensionContext(ExtensionDescriptor descriptor, ExtensionStats stats, ExtensionServices services,
                           SharedExtensionExecutor executor, Interceptors.Builder chains) {
        this.descriptor = descriptor;
        this.stats = stats;
        this.services = services;
        this.executor = executor;
        this.chains = chains;
    }

    /** {@code start} returned: its registrations join the chains; later ones are refused. */
    void commit() {
        starting = false;
        registrations.forEach(Runnable::run);
    }

    /** {@code start} threw: its registrations are dropped. */
    void discard() {
        starting = false;
        registrations.clear();
    }

    ExtensionMetrics metricsSnapshotSource() {
        return metrics;
    }

    private void register(Object what, Runnable r) {
        Objects.requireNonNull(what);
        if (!starting) {
            throw new IllegalStateException("interceptors and listeners are registered in ExtensionMain.start only");
        }
        registrations.add(r);
    }

    @Override
    public String id() {
        return descriptor.id();
    }

    @Override
    public String version() {
        return descriptor.version();
    }

    @Override
    public Path folder() {
        return descriptor.folder();
    }

    @Override
    public void addConnectInbound(ConnectInboundInterceptor interceptor) {
        register(interceptor, () -> chains.connectInbound.add(interceptor, stats));
    }

    @Override
    public void addPublishInbound(PublishInboundInterceptor interceptor) {
        register(interceptor, () -> chains.publishInbound.add(interceptor, stats));
    }

    @Override
    public void addPublishOutbound(PublishOutboundInterceptor interceptor) {
        register(interceptor, () -> chains.publishOutbound.add(new Interceptors.Registered<>(interceptor, stats)));
    }

    @Override
    public void addSubscribeInbound(SubscribeInboundInterceptor interceptor) {
        register(interceptor, () -> chains.subscribeInbound.add(interceptor, stats));
    }

    @Override
    public void addClientLifecycleListener(ClientLifecycleListener listener) {
        register(listener, () -> chains.lifecycle.add(new Interceptors.Registered<>(listener, stats)));
    }

    @Override
    public PublishService publishService() {
        return services;
    }

    @Override
    public SubscriptionService subscriptionService() {
        return services;
    }

    @Override
    public ClientService clientService() {
        return services;
    }

    @Override
    public RetainedService retainedService() {
        return services;
    }

    @Override
    public ExtensionExecutor executor() {
        return this;
    }

    @Override
    public MetricsService metrics() {
        return metrics;
    }

    // ------------------------------------------------------------------ ExtensionExecutor (counted per extension)

    @Override
    public void execute(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            stats.rejectedTasks.increment();
            throw e;
        }
    }

    @Override
    public void schedule(Runnable task, Duration delay) {
        executor.schedule(task, delay.toNanos(), stats);
    }
}
