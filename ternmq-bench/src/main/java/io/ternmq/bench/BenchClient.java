package io.ternmq.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttDecoder;
import io.ternmq.codec.MqttEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One MQTT client of the bench: a subscriber (with its filters), a publisher (with its topic), both, or neither (an
 * idle connection). Everything but {@link #connect} and the {@code start*}/{@link #close} requests runs on the
 * channel's event loop.
 * <p>
 * Publishing writes PUBLISH packets straight into pooled buffers, many per buffer, and flushes once per batch; the
 * bytes are exactly what the codec's encoder writes for the same packet (a test checks that). Acknowledgements to the
 * broker are gathered during a read and flushed once when the read completes.
 */
final class BenchClient extends ChannelInboundHandlerAdapter {
    /** Messages per write batch at most, and bytes per batch buffer (a larger message gets a buffer of its own). */
    private static final int MAX_BATCH = 64;
    private static final int BATCH_BYTES = 32 * 1024;
    private static final int SUBSCRIBE_ID = 1;

    private final RunContext run;
    final int index;
    final String clientId;
    private final List<String> filters;
    private final byte[] topic;
    /** The publisher's stream id (its index among publishers), written into every payload. */
    private final int stream;
    final CompletableFuture<BenchClient> ready = new CompletableFuture<>();

    private ChannelHandlerContext ctx;
    private Channel channel;
    private LoopStats stats;
    private long connectStart;
    private boolean closing;
    private volatile String failure;
    private long lastWriteNanos;
    private ScheduledFuture<?> keepAliveTask;
    private ByteBuf controlOut;

    // subscriber
    private StreamTracker[] trackers = new StreamTracker[0];
    /** The streams of other processes' runs (sub scenario), by run id and stream id. */
    private java.util.Map<Long, StreamTracker> otherRuns;

    // publisher
    private final int qos;
    private final int size;
    private final boolean v5;
    private final int remainingLength;
    private final int packetLength;
    private int window;
    private long seq;
    private long countedSent;
    private int inflight;
    private long[] idsInUse;
    private int nextId = 1;
    private boolean pumpPending;
    private boolean resumeAfterRead;
    private ScheduledFuture<?> tickTask;
    private long rateStart;
    private long rateIndex;
    private long intervalNanos;
    /** Set once the publisher has sent its --count messages or lost its connection. */
    volatile boolean publisherDone;

    BenchClient(RunContext run, int index, String clientId, List<String> filters, String topic, int stream) {
        this.run = run;
        this.index = index;
        this.clientId = clientId;
        this.filters = filters;
        this.topic = topic == null ? null : topic.getBytes(StandardCharsets.UTF_8);
        this.stream = stream;
        TrafficOptions t = run.traffic;
        this.qos = t == null ? 0 : t.qos;
        this.size = t == null ? 0 : t.size;
        this.window = t == null ? 0 : t.inflight;
        this.v5 = run.version == MqttVersion.MQTT_5;
        this.remainingLength = this.topic == null ? 0
                : 2 + this.topic.length + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + size;
        this.packetLength = 1 + varIntSize(remainingLength) + remainingLength;
    }

    boolean isPublisher() {
        return topic != null;
    }

    String failure() {
        return failure;
    }

    Channel channel() {
        return channel;
    }

    // ---------------------------------------------------------------- connecting

    /** Opens the connection; {@link #ready} completes after CONNACK (and SUBACK for a subscriber). */
    void connect(InetSocketAddress localAddress) {
        Transport t = run.transport;
        InetSocketAddress remote = filters != null ? t.subscriberRemote : t.remote;
        Bootstrap b = t.bootstrap().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ChannelPipeline p = ch.pipeline();
                if (t.ssl != null) {
                    p.addLast("tls", t.ssl.newHandler(ch.alloc(), remote.getHostString(), remote.getPort()));
                }
                if (t.webSocket) {
                    WebSocketClientFrames.addTo(p, run.client, remote.getHostString(), remote.getPort(), t.ssl != null);
                }
                if (run.client.codecDecode) {
                    MqttDecoder decoder = new MqttDecoder(run.maxPacketSize);
                    decoder.setVersion(run.version);
                    p.addLast("decoder", decoder);
                } else {
                    p.addLast("decoder", new FrameDecoder(BenchClient.this, run.version));
                }
                MqttEncoder encoder = new MqttEncoder();
                encoder.setVersion(run.version);
                p.addLast("encoder", encoder);
                p.addLast("client", BenchClient.this);
            }
        });
        connectStart = System.nanoTime();
        ChannelFuture f = localAddress == null ? b.connect(remote) : b.connect(remote, localAddress);
        channel = f.channel();
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                if (stats == null) {
                    stats = run.stats.forLoop(future.channel().eventLoop());
                }
                fail("connect: " + describe(future.cause()));
            }
        });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.stats = run.stats.forLoop(ctx.channel().eventLoop());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ClientOptions o = run.client;
        MqttProperties props = MqttProperties.EMPTY;
        if (v5 && o.persistent) {
            props = MqttProperties.builder().set(PropertyId.SESSION_EXPIRY_INTERVAL, o.sessionExpiry).build();
        }
        byte[] password = o.password == null ? null : o.password.getBytes(StandardCharsets.UTF_8);
        write(new Connect(run.version, clientId, !o.persistent, o.keepAlive, o.username, password, null, props));
        ctx.flush();
        ctx.fireChannelActive();
    }

    private void onConnack(Connack c) {
        if (c.reasonCode() != 0) {
            fail(String.format("CONNACK refused: 0x%02x", c.reasonCode()));
            ctx.close();
            return;
        }
        if (v5) {
            Integer receiveMaximum = c.properties().getInt(PropertyId.RECEIVE_MAXIMUM);
            if (receiveMaximum != null) {
                window = Math.min(window, receiveMaximum);
            }
        }
        startKeepAlive();
        if (filters != null) {
            List<TopicSubscription> subs = new ArrayList<>(filters.size());
            for (String f : filters) {
                subs.add(new TopicSubscription(f, QoS.of(qos)));
            }
            write(new Subscribe(SUBSCRIBE_ID, subs, MqttProperties.EMPTY));
            ctx.flush();
        } else {
            succeed();
        }
    }

    private void onSuback(Suback s) {
        for (int code : s.reasonCodes()) {
            if (code >= 0x80) {
                fail(String.format("SUBACK refused a filter: 0x%02x", code));
                ctx.close();
                return;
            }
        }
        succeed();
    }

    private void succeed() {
        stats.connected++;
        stats.recordConnectLatency(System.nanoTime() - connectStart);
        ready.complete(this);
    }

    private void fail(String why) {
        if (failure == null) {
            failure = why;
        }
        if (!ready.isDone()) {
            stats.connectFailed++;
            ready.completeExceptionally(new IOException(clientId + ": " + why));
        }
    }

    private void startKeepAlive() {
        int ka = run.client.keepAlive;
        if (ka <= 0) {
            return;
        }
        long half = Math.max(1, ka / 2);
        lastWriteNanos = System.nanoTime();
        keepAliveTask = ctx.executor().scheduleAtFixedRate(() -> {
            if (!closing && System.nanoTime() - lastWriteNanos >= TimeUnit.SECONDS.toNanos(half) - 1_000_000) {
                write(Pingreq.INSTANCE);
                ctx.flush();
            }
        }, half, half, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------- inbound

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Publish p) {
            ByteBuf payload = Unpooled.wrappedBuffer(p.payload());
            onMessage(payload, 0, p.payload().length, p.qos().value(), p.packetId());
        } else if (msg instanceof Puback a) {
            onAck(4, a.packetId(), a.reasonCode());
        } else if (msg instanceof Pubrec a) {
            onAck(5, a.packetId(), a.reasonCode());
        } else if (msg instanceof Pubrel a) {
            onAck(6, a.packetId(), a.reasonCode());
        } else if (msg instanceof Pubcomp a) {
            onAck(7, a.packetId(), a.reasonCode());
        } else if (msg instanceof Connack c) {
            onConnack(c);
        } else if (msg instanceof Suback s) {
            onSuback(s);
        } else if (msg instanceof Pingresp) {
            // nothing to do
        } else if (msg instanceof Disconnect d) {
            fail(String.format("DISCONNECT from the broker: 0x%02x", d.reasonCode()));
            ctx.close();
        } else if (msg instanceof DecodeFailure f) {
            fail("malformed packet from the broker: " + f.message());
            ctx.close();
        } else {
            fail("unexpected packet from the broker: " + msg);
            ctx.close();
        }
    }

    /** A whole PUBLISH packet whose body (after the fixed header) is {@code in[body, body + length)}. */
    void onPublishFrame(int firstByte, ByteBuf in, int body, int length) {
        int q = (firstByte >>> 1) & 3;
        int end = body + length;
        int i = body + 2 + in.getUnsignedShort(body);
        int packetId = 0;
        if (q > 0) {
            packetId = in.getUnsignedShort(i);
            i += 2;
        }
        if (v5) {
            int propertiesLength = 0;
            int shift = 0;
            int b;
            do {
                b = in.getUnsignedByte(i++);
                propertiesLength |= (b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            i += propertiesLength;
        }
        if (i > end) {
            throw new IllegalStateException("malformed PUBLISH from the broker");
        }
        onMessage(in, i, end - i, q, packetId);
    }

    private void onMessage(ByteBuf buf, int payload, int length, int q, int packetId) {
        LoopStats s = stats;
        s.received++;
        if (Payload.isBench(buf, payload, length, run.anyRun ? -1 : run.runId)) {
            int st = Payload.stream(buf, payload);
            StreamTracker tracker = run.anyRun ? foreignTracker(Payload.runId(buf, payload), st) : tracker(st);
            int verdict = tracker == null ? StreamTracker.IN_ORDER : tracker.offer(Payload.seq(buf, payload));
            if (verdict == StreamTracker.DUPLICATE) {
                s.duplicates++;
            } else if (verdict == StreamTracker.OUT_OF_ORDER) {
                s.outOfOrder++;
            }
            if (Payload.counted(buf, payload)) {
                long now = System.nanoTime();
                s.receivedCounted++;
                if (s.firstCountedNanos == 0) {
                    s.firstCountedNanos = now;
                }
                s.lastCountedNanos = now;
                if (verdict == StreamTracker.DUPLICATE) {
                    s.duplicatesCounted++;
                } else {
                    s.recordLatency(now - Payload.sendNanos(buf, payload));
                }
            }
        } else {
            s.foreign++;
        }
        if (q == 1) {
            control(0x40, packetId);
        } else if (q == 2) {
            control(0x50, packetId);
        }
    }

    /** @return sequence numbers missing in the streams seen (call after the loop has settled) */
    long gaps() {
        long g = 0;
        for (StreamTracker t : trackers) {
            if (t != null) {
                g += t.gaps();
            }
        }
        if (otherRuns != null) {
            for (StreamTracker t : otherRuns.values()) {
                g += t.gaps();
            }
        }
        return g;
    }

    private StreamTracker foreignTracker(int runId, int st) {
        if (otherRuns == null) {
            otherRuns = new java.util.HashMap<>();
        }
        return otherRuns.computeIfAbsent(((long) runId << 32) | (st & 0xFFFFFFFFL), k -> new StreamTracker());
    }

    private StreamTracker tracker(int st) {
        if (st < 0 || st > (1 << 24)) {
            return null;
        }
        if (st >= trackers.length) {
            trackers = Arrays.copyOf(trackers, Math.max(st + 1, trackers.length * 2));
        }
        StreamTracker t = trackers[st];
        if (t == null) {
            t = new StreamTracker();
            trackers[st] = t;
        }
        return t;
    }

    /** PUBACK (4), PUBREC (5), PUBREL (6) or PUBCOMP (7) from the broker. */
    void onAck(int type, int packetId, int reasonCode) {
        switch (type) {
            case 4, 7 -> {
                if (releaseId(packetId)) {
                    stats.acked++;
                    if (reasonCode >= 0x80) {
                        stats.publishErrors++;
                    }
                    resumeAfterRead = true;
                }
            }
            case 5 -> {
                if (reasonCode >= 0x80) {
                    if (releaseId(packetId)) {
                        stats.acked++;
                        stats.publishErrors++;
                        resumeAfterRead = true;
                    }
                } else {
                    control(0x62, packetId);
                }
            }
            default -> control(0x70, packetId);
        }
    }

    /** Queues a 4-byte PUBACK/PUBREC/PUBREL/PUBCOMP, flushed when the read completes. */
    private void control(int firstByte, int packetId) {
        if (controlOut == null) {
            controlOut = ctx.alloc().ioBuffer(256);
        }
        controlOut.writeByte(firstByte).writeByte(2).writeShort(packetId);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (controlOut != null) {
            ByteBuf out = controlOut;
            controlOut = null;
            ctx.write(out);
            ctx.flush();
            lastWriteNanos = System.nanoTime();
        }
        if (resumeAfterRead) {
            resumeAfterRead = false;
            resume();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            resume();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(describe(cause));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimers();
        if (controlOut != null) {
            controlOut.release();
            controlOut = null;
        }
        if (ready.isDone() && !ready.isCompletedExceptionally() && !closing) {
            stats.disconnected++;
            if (failure == null) {
                failure = "connection closed by the broker";
            }
        }
        fail("connection closed");
        publisherDone = true;
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- publishing

    /** Starts publishing (from any thread): at --rate per second, or as fast as the window and socket allow. */
    void startPublishing() {
        channel.eventLoop().execute(() -> {
            if (closing || !channel.isActive()) {
                publisherDone = true;
                return;
            }
            if (qos > 0) {
                idsInUse = new long[1024];
            }
            double rate = run.traffic.rate;
            if (rate > 0) {
                intervalNanos = Math.max(1, (long) (1e9 / rate));
                long period = Math.max(intervalNanos, 1_000_000L);
                rateStart = System.nanoTime();
                long offset = (long) (Math.random() * period);
                rateStart += offset;
                tickTask = ctx.executor().scheduleAtFixedRate(this::tick, offset, period, TimeUnit.NANOSECONDS);
            } else {
                pump();
            }
        });
    }

    private void resume() {
        if (topic == null || closing || publisherDone || !run.publishing()) {
            return;
        }
        if (tickTask != null) {
            tick();
        } else {
            schedulePump();
        }
    }

    private boolean canSend() {
        if (!run.publishing() || closing || publisherDone) {
            return false;
        }
        if (run.traffic.count > 0 && countedSent >= run.traffic.count) {
            publisherDone = true;
            return false;
        }
        return (qos == 0 || inflight < window) && channel.isWritable();
    }

    private void schedulePump() {
        if (!pumpPending) {
            pumpPending = true;
            ctx.executor().execute(this::pump);
        }
    }

    /** Unlimited rate: one batch, then yield to the event loop and come back while there is room. */
    private void pump() {
        pumpPending = false;
        if (!canSend()) {
            return;
        }
        ByteBuf batch = ctx.alloc().ioBuffer(Math.max(packetLength, Math.min(BATCH_BYTES, packetLength * MAX_BATCH)));
        int n = 0;
        do {
            writePublish(batch, System.nanoTime());
            n++;
        } while (n < MAX_BATCH && batch.readableBytes() + packetLength <= BATCH_BYTES && canSend());
        ctx.write(batch);
        ctx.flush();
        lastWriteNanos = System.nanoTime();
        if (canSend()) {
            schedulePump();
        }
    }

    /**
     * Fixed rate: sends every message due by now. Each carries its intended send time, not the time it left, so a
     * publisher held back by the window or the socket sees that delay in the latencies (no coordinated omission).
     */
    private void tick() {
        if (!canSend()) {
            return;
        }
        long due = (System.nanoTime() - rateStart) / intervalNanos + 1;
        ByteBuf batch = null;
        boolean wrote = false;
        while (rateIndex < due && canSend()) {
            if (batch == null) {
                batch = ctx.alloc().ioBuffer(Math.max(packetLength, Math.min(BATCH_BYTES,
                        (int) Math.min(MAX_BATCH, due - rateIndex) * packetLength)));
            }
            writePublish(batch, rateStart + rateIndex * intervalNanos);
            rateIndex++;
            if (batch.readableBytes() + packetLength > BATCH_BYTES) {
                ctx.write(batch);
                batch = null;
                wrote = true;
            }
        }
        if (batch != null) {
            ctx.write(batch);
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
            lastWriteNanos = System.nanoTime();
        }
    }

    private void writePublish(ByteBuf out, long sendNanos) {
        boolean counted = run.phase == RunContext.MEASURE;
        int packetId = 0;
        if (qos > 0) {
            packetId = takeId();
            inflight++;
        }
        encodePublish(out, qos, topic, packetId, v5, size, counted ? Payload.FLAG_COUNTED : 0, run.runId, stream,
                seq++, sendNanos);
        stats.sent++;
        if (counted) {
            stats.sentCounted++;
            countedSent++;
        }
    }

    /**
     * Writes a whole PUBLISH (no DUP, no RETAIN, no properties) whose payload is a bench {@link Payload} of
     * {@code size} bytes: the same bytes as the codec's encoder writes for that packet.
     */
    static void encodePublish(ByteBuf out, int qos, byte[] topic, int packetId, boolean v5, int size, int flags,
                              int runId, int stream, long seq, long sendNanos) {
        out.writeByte(0x30 | (qos << 1));
        writeVarInt(out, 2 + topic.length + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + size);
        out.writeShort(topic.length);
        out.writeBytes(topic);
        if (qos > 0) {
            out.writeShort(packetId);
        }
        if (v5) {
            out.writeByte(0);
        }
        Payload.write(out, flags, runId, stream, seq, sendNanos, size);
    }

    private int takeId() {
        while (true) {
            int id = nextId;
            nextId = id == 65535 ? 1 : id + 1;
            long bit = 1L << (id & 63);
            if ((idsInUse[id >>> 6] & bit) == 0) {
                idsInUse[id >>> 6] |= bit;
                return id;
            }
        }
    }

    private boolean releaseId(int id) {
        if (idsInUse == null || id <= 0 || id > 65535) {
            return false;
        }
        long bit = 1L << (id & 63);
        if ((idsInUse[id >>> 6] & bit) == 0) {
            return false;
        }
        idsInUse[id >>> 6] &= ~bit;
        inflight--;
        return true;
    }

    // ---------------------------------------------------------------- closing

    /** Sends DISCONNECT and closes (from any thread). @return the channel's close future, or null if never opened */
    ChannelFuture close() {
        if (channel == null) {
            return null;
        }
        channel.eventLoop().execute(() -> {
            closing = true;
            cancelTimers();
            if (channel.isActive() && ctx != null) {
                ctx.writeAndFlush(Disconnect.NORMAL).addListener(ChannelFutureListener.CLOSE);
            } else {
                channel.close();
            }
        });
        return channel.closeFuture();
    }

    private void cancelTimers() {
        if (keepAliveTask != null) {
            keepAliveTask.cancel(false);
            keepAliveTask = null;
        }
        if (tickTask != null) {
            tickTask.cancel(false);
            tickTask = null;
        }
    }

    private void write(Object packet) {
        ctx.write(packet);
        lastWriteNanos = System.nanoTime();
    }

    static void writeVarInt(ByteBuf out, int value) {
        do {
            int b = value & 0x7F;
            value >>>= 7;
            out.writeByte(value > 0 ? b | 0x80 : b);
        } while (value > 0);
    }

    static int varIntSize(int value) {
        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    private static String describe(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getMessage() == null) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
    }
}
