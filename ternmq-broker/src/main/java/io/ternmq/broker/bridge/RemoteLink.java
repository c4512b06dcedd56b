package io.ternmq.broker.bridge;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.TlsSettings;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.MqttDecoder;
import io.ternmq.codec.MqttEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * A bridge's way to the remote broker: resolves the address again at each attempt (off the event loop), connects
 * (TLS when configured), hands each connection to an {@link Outlet}, and after a failure waits per
 * {@code restart_timeout} (jittered backoff), at the next address if several. Event loop, but {@link #state()}.
 */
final class RemoteLink {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteLink.class);
    /** Seconds the remote broker has to answer CONNECT (and the TLS handshake before it). */
    static final int CONNACK_TIMEOUT_SECONDS = 30;
    static final int TAKEOVERS_LOGGED = 3;
    private static final RateLimitedLog CONFLICT_LOG = new RateLimitedLog(LOG, 10_000);

    private final BridgeSettings settings;
    private final EventLoop loop;
    private final Class<? extends Channel> channelClass;
    /** Resolves the remote's name off the event loop (InetAddress blocks). */
    private final Executor resolver;
    private final int maxPacketSize;
    private final SslContext ssl;
    /** Makes the handler of one connection of this link to the given address. */
    private final BiFunction<RemoteLink, BridgeSettings.Address, Outlet> outlets;

    private boolean stopped;
    private Outlet outlet;
    private int addressIndex;
    /** The connection in use is to a secondary address, and round_robin is off: the main one is next. */
    private boolean backToMain;
    private ScheduledFuture<?> mainProbe;
    private int failures;
    private ScheduledFuture<?> reconnect;
    /** Accepted connections the remote broker closed soon after, in a row (a takeover of remote_clientid?). */
    private int quickRemoteCloses;
    /** Written on the loop, read anywhere (a hint for listings and tests). */
    private volatile String state = "starting";

    RemoteLink(BridgeSettings settings, EventLoop loop, Class<? extends Channel> channelClass, Executor resolver,
               int maxPacketSize, BiFunction<RemoteLink, BridgeSettings.Address, Outlet> outlets) {
        this.settings = settings;
        this.loop = loop;
        this.channelClass = channelClass;
        this.resolver = resolver;
        this.maxPacketSize = maxPacketSize;
        this.outlets = outlets;
        this.ssl = settings.tls() == null ? null : clientTls(settings.tls());
    }

    private static SslContext clientTls(BridgeSettings.Tls tls) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().trustManager(tls.caFile().toFile())
                    .protocols(tls.minVersion() == TlsSettings.Version.TLS_1_3
                            ? new String[]{"TLSv1.3"} : new String[]{"TLSv1.3", "TLSv1.2"});
            if (tls.certFile() != null) {
                b.keyManager(tls.certFile().toFile(), tls.keyFile().toFile());
            }
            if (tls.alpn() != null) {
                b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, tls.alpn()));
            }
            return b.build();
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("bridge TLS files cannot be used: " + e.getMessage(), e);
        }
    }

    /** "connected", "connecting", "waiting" (to reconnect) or "stopped"; a hint from any thread. */
    String state() {
        return state;
    }

    /** Whether {@code o} is the connection in use (not one replaced or stopped). */
    boolean isCurrent(Outlet o) {
        return outlet == o;
    }

    /** The connection attempt, now. */
    void connectNow() {
        if (stopped) {
            return;
        }
        reconnect = null;
        state = "connecting";
        BridgeSettings.Address address = settings.addresses().get(addressIndex);
        // resolved again at every attempt, off the loop: the remote may have moved
        resolver.execute(() -> {
            InetAddress resolved;
            try {
                resolved = InetAddress.getByName(address.host());
            } catch (UnknownHostException e) {
                loop.execute(() -> failed("cannot resolve " + address.host() + ": " + e.getMessage()));
                return;
            }
            loop.execute(() -> connectTo(address, new InetSocketAddress(resolved, address.port())));
        });
    }

    private void connectTo(BridgeSettings.Address address, InetSocketAddress target) {
        if (stopped) {
            return;
        }
        Outlet o = outlets.apply(this, address);
        outlet = o;
        Bootstrap b = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNACK_TIMEOUT_SECONDS * 1000)
                .option(ChannelOption.TCP_NODELAY, true)
                // a trunk carrying many clients' messages, like a cluster link: a client connection's 64 KiB would
                // hold the publishers back (and resume them, polled each millisecond) after a few dozen messages
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            SslHandler h = ssl.newHandler(ch.alloc(), address.host(), address.port());
                            if (!settings.tls().insecure()) {
                                SSLEngine engine = h.engine();
                                SSLParameters p = engine.getSSLParameters();
                                p.setEndpointIdentificationAlgorithm("HTTPS");
                                engine.setSSLParameters(p);
                            }
                            ch.pipeline().addLast(h);
                        }
                        int keepAlive = settings.keepAliveSeconds();
                        ch.pipeline().addLast(new IdleStateHandler(keepAlive, keepAlive, 0));
                        MqttDecoder decoder = new MqttDecoder(maxPacketSize);
                        decoder.setVersion(o.version());
                        MqttEncoder encoder = new MqttEncoder();
                        encoder.setVersion(o.version());
                        ch.pipeline().addLast(decoder, encoder, o);
                    }
                });
        ChannelFuture f = b.connect(target);
        o.channel(f.channel());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                failed("cannot connect to " + target + ": " + done.cause().getMessage());
            }
        });
    }

    /**
     * The remote broker accepted the connection. Without round_robin the first address is the main one: after a
     * connection to a secondary one ends, the main one is tried next (after one to the main one, the next in turn).
     */
    void accepted() {
        backToMain = !settings.roundRobin() && addressIndex != 0;
        state = "connected";
        if (backToMain) {
            scheduleMainProbe();
        }
    }

    /**
     * Without round_robin, while connected to a secondary address, the main one is tried every restart_timeout
     * base seconds (a TCP connection, closed at once), as Mosquitto does; once it answers, the bridge leaves the
     * secondary one and connects there.
     */
    private void scheduleMainProbe() {
        mainProbe = loop.schedule(this::probeMain, Math.max(1, settings.restart().baseSeconds()), TimeUnit.SECONDS);
    }

    private void probeMain() {
        mainProbe = null;
        Outlet o = outlet;
        if (stopped || o == null || !backToMain) {
            return;
        }
        BridgeSettings.Address main = settings.addresses().get(0);
        resolver.execute(() -> {
            InetAddress resolved;
            try {
                resolved = InetAddress.getByName(main.host());
            } catch (UnknownHostException e) {
                loop.execute(() -> mainProbed(o, false));
                return;
            }
            loop.execute(() -> {
                if (outlet != o || stopped) {
                    return;
                }
                new Bootstrap().group(loop).channel(channelClass)
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNACK_TIMEOUT_SECONDS * 1000)
                        .handler(new ChannelInboundHandlerAdapter())
                        .connect(new InetSocketAddress(resolved, main.port()))
                        .addListener((ChannelFuture f) -> {
                            if (f.isSuccess()) {
                                f.channel().close();
                            }
                            mainProbed(o, f.isSuccess());
                        });
            });
        });
    }

    private void mainProbed(Outlet o, boolean answers) {
        if (outlet != o || stopped) {
            return;
        }
        if (!answers) {
            scheduleMainProbe();
            return;
        }
        LOG.info("Bridge {}: the main address {} answers again: leaving {}", settings.name(),
                settings.addresses().get(0), settings.addresses().get(addressIndex));
        o.leave();
    }

    /**
     * The connection {@code o} ended; {@code stable}: it was accepted and lasted restart_timeout's stable seconds, so
     * the backoff starts again from its base. {@code closedByRemoteAfterNanos}: how long the remote broker kept it
     * after accepting it before closing it (-1: it was not accepted, or this side closed it).
     */
    void ended(Outlet o, boolean stable, long closedByRemoteAfterNanos, String why) {
        if (stable) {
            failures = 0;
        }
        remoteCloses(closedByRemoteAfterNanos);
        if (outlet == o) {
            failed(why);
        }
    }

    /**
     * A broker closes a client's connection without a word (MQTT 3.x; Mosquitto at MQTT 5 too) when another client
     * takes its client id: two bridges with one remote_clientid take it from each other in turn, each connection
     * lasting about a backoff delay. {@value #TAKEOVERS_LOGGED} such closes in a row are logged as a conflict.
     */
    private void remoteCloses(long afterNanos) {
        long quick = TimeUnit.SECONDS.toNanos(Math.max(60, 2L * settings.restart().capSeconds()));
        if (afterNanos < 0) {
            return; // not accepted, or closed here: says nothing
        }
        if (afterNanos >= quick) {
            quickRemoteCloses = 0;
            return;
        }
        if (++quickRemoteCloses >= TAKEOVERS_LOGGED) {
            CONFLICT_LOG.warn("Bridge {}: the remote broker closed {} connections in a row soon after accepting them: "
                    + "another client took remote_clientid '{}' over there (a conflict: two bridges with one client "
                    + "id?), or the remote refuses what the bridge does", settings.name(), quickRemoteCloses,
                    settings.remoteClientId());
        }
    }

    /** An attempt failed or a connection ended: try again after the backoff, at the next address if several. */
    private void failed(String why) {
        if (stopped) {
            return;
        }
        outlet = null;
        int n = settings.addresses().size();
        addressIndex = backToMain ? 0 : (addressIndex + 1) % n;
        backToMain = false;
        long delayMillis = backoffMillis();
        state = "waiting";
        LOG.warn("Bridge {}: {}; next attempt in {} ms{}", settings.name(), why, delayMillis,
                n > 1 ? " (to " + settings.addresses().get(addressIndex) + ")" : "");
        reconnect = loop.schedule(this::connectNow, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** {@code restart_timeout}: constant, or base doubling to cap; jitter takes it down by up to a half. */
    private long backoffMillis() {
        BridgeSettings.RestartTimeout r = settings.restart();
        long seconds = r.constant() ? r.baseSeconds()
                : Math.min(r.capSeconds(), (long) r.baseSeconds() << Math.min(failures, 20));
        failures++;
        long millis = seconds * 1000;
        return millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
    }

    /** Stops connecting and ends the connection in use (see {@link Outlet#stop}). Event loop. */
    void stop(CompletableFuture<Void> done) {
        stopped = true;
        state = "stopped";
        if (reconnect != null) {
            reconnect.cancel(false);
        }
        if (mainProbe != null) {
            mainProbe.cancel(false);
        }
        Outlet o = outlet;
        outlet = null;
        if (o == null || !o.hasChannel()) {
            done.complete(null);
            return;
        }
        o.stop(done);
    }
}
