package io.ternmq.broker.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.MetricsHistory;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.FileWatcher;
import io.ternmq.broker.security.ReloadOutcome;
import io.ternmq.broker.transport.ServerTlsContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin listener ({@code protocol http_api}): HTTP/1.1 on an event loop of its own (one thread, never an MQTT
 * one), so that a scrape or a slow admin client cannot delay a PUBLISH. Routes: {@code GET /metrics},
 * {@code GET /health/live}, {@code GET /health/ready}, the REST API under {@code /api/v1} (docs/operations.md),
 * one {@link AdminRoute} per resource, and the dashboard at {@code /}.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    static final int MAX_HEADER_BYTES = 8 * 1024;
    static final int MAX_BODY_BYTES = 1024 * 1024;
    static final int IDLE_SECONDS = 30;

    /**
     * What the admin API needs of the broker besides its service and counters.
     *
     * @param reload                 reloads files as SIGHUP does ({@code POST /api/v1/reload}); any thread
     * @param watcher                reloads the admin listener's own certificate when its files change
     * @param handshakeTimeoutMillis how long a TLS handshake may take (connect_timeout)
     * @param listings               what the listings list (every node's, in a cluster); its alarms are checked on
     *                               the admin loop
     */
    public record Hooks(Supplier<List<ReloadOutcome>> reload, FileWatcher watcher,
                        int handshakeTimeoutMillis, ClusterListings listings) {
    }

    private final EventLoopGroup group;
    private final Channel channel;
    private final ServerTlsContext tls;
    private final Alarms alarms;

    private AdminServer(EventLoopGroup group, Channel channel, ServerTlsContext tls, Alarms alarms) {
        this.group = group;
        this.channel = channel;
        this.tls = tls;
        this.alarms = alarms;
    }

    /** Reloads the admin listener's own certificate (HTTPS) now; empty without one. */
    public List<ReloadOutcome> reloadTls() {
        return tls == null ? List.of() : List.of(tls.reloadNow());
    }

    /**
     * Binds the admin listener.
     *
     * @param users   the admin password file's users
     * @param ready   whether the broker is ready (store recovered, MQTT listeners open)
     * @throws IllegalStateException if it cannot bind
     */
    public static AdminServer start(AdminListenerConfig config, Authenticator users, PrometheusMetrics metrics,
                                    BooleanSupplier ready, BrokerService service, BrokerMetrics counters,
                                    long authFailureDelayMillis, Hooks hooks) throws InterruptedException {
        ServerTlsContext tls = config.tls() == null ? null
                : new ServerTlsContext(config.asListener(), hooks.handshakeTimeoutMillis(), hooks.watcher(), null);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ternmq-admin", true),
                NioIoHandler.newFactory());
        EventExecutor loop = group.next(); // the only one
        hooks.listings().answerOn(loop);
        AdminLogins logins = new AdminLogins();
        List<AdminRoute> routes = new ArrayList<>(List.of(new MetricsRoute(metrics), HealthRoute.live(),
                HealthRoute.ready(ready),
                new LoginRoute(users, config.readonlyUsers(), logins, loop, authFailureDelayMillis, tls != null),
                new StatusRoute(hooks.listings()), new StatsRoute(hooks.listings()),
                new ClientsRoute(hooks.listings()), new ClientRoute(service, hooks.listings()),
                new NodesRoute(hooks.listings()), new PublishRoute(service, loop), RetainedRoute.list(service),
                RetainedRoute.topic(service, loop), new SubscriptionsRoute(hooks.listings()),
                new ListenersRoute(hooks.listings())));
        // operations: topics, reload, alarms, slow subscribers, topic metrics, traces, $SYS, logout
        routes.addAll(List.of(new TopicsRoute(hooks.listings()), new ReloadRoute(hooks.reload(), loop),
                new AlarmsRoute(hooks.listings()), new LogoutRoute(logins, tls != null),
                new SlowSubscribersRoute(hooks.listings()),
                new SysTreeRoute(service, counters), new TopicMetricsRoute(hooks.listings()),
                TracesRoute.collection(hooks.listings(), service.traces(), loop),
                TracesRoute.one(hooks.listings(), service.traces(), loop)));
        // the dashboard (docs/operations.md): its files, and the 1 s samples its plots show, taken on this loop
        MetricsHistory history = new MetricsHistory(counters);
        loop.scheduleAtFixedRate(() -> history.sample(System.currentTimeMillis()), 1, 1, TimeUnit.SECONDS);
        routes.add(new MetricsHistoryRoute(history));
        routes.addAll(List.of(DashboardRoute.load()));
        AdminRouter router = new AdminRouter(routes, users, config.metricsAnonymous(), config.readonlyUsers(), logins,
                authFailureDelayMillis);
        HostCheck hosts = new HostCheck(config.bindAddress(), isWildcard(config.bindAddress()) ? hostName() : null);
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS),
                                new HttpServerCodec(4096, MAX_HEADER_BYTES, 8192),
                                new BodyLimit(MAX_BODY_BYTES),
                                new AdminHttpHandler(router, hosts));
                    }
                });
        Channel ch;
        try {
            ch = b.bind(config.bindAddress(), config.port()).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (tls != null) {
                tls.close();
            }
            throw new IllegalStateException("cannot listen on " + config + " (admin listener): " + e.getMessage(), e);
        }
        InetSocketAddress address = (InetSocketAddress) ch.localAddress();
        if (address.getAddress().isLoopbackAddress()) {
            LOG.info("Admin listener ({}) on {}: /metrics{}, /health/live, /health/ready, /api/v1, dashboard /",
                    tls != null ? "HTTPS" : "HTTP", describe(address),
                    config.metricsAnonymous() ? " (no credentials: metrics_anonymous)" : "");
        } else {
            LOG.warn("Admin listener (HTTP) on {} is reachable from other hosts: bind it to 127.0.0.1 unless they "
                    + "need it, and never expose it to the internet", describe(address));
        }
        Alarms alarms = hooks.listings().operations().alarmChecks();
        alarms.start(loop, tls);
        return new AdminServer(group, ch, tls, alarms);
    }

    private static boolean isWildcard(String bindAddress) {
        return bindAddress.equals("0.0.0.0") || bindAddress.equals("::") || bindAddress.equals("[::]");
    }

    /** The machine's name, which a request to a listener on every address may use; null if unknown. */
    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static String describe(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        alarms.close();
        if (tls != null) {
            tls.close();
        }
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
