package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.service.BrokerCounts;
import io.ternmq.broker.service.BrokerService;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /api/v1/systree}: the {@code $SYS} tree as Mosquitto 2.1's http_api serves it: one flat JSON object,
 * each key a full {@code $SYS/broker/...} topic, each value an integer (its metrics, without their 2.0 aliases and
 * load averages, plus {@code uptime} in seconds). Values are read now, whatever {@code sys_interval} says (Mosquitto
 * shows those of its last update). Heap figures are the JVM's (Mosquitto shows them when built with memory tracking).
 */
final class SysTreeRoute implements AdminRoute {
    private static final String PREFIX = "$SYS/broker/";

    private final BrokerService service;
    private final BrokerMetrics metrics;
    private final long startNanos = System.nanoTime();

    SysTreeRoute(BrokerService service, BrokerMetrics metrics) {
        this.service = service;
        this.metrics = metrics;
    }

    @Override
    public String path() {
        return "/api/v1/systree";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        BrokerCounts c = service.counts();
        long connected = metrics.clientsConnected.get();
        Map<String, Object> m = new LinkedHashMap<>();
        // Mosquitto 2.1's order (src/sys_tree.c), then uptime as its http_api adds it
        m.put(PREFIX + "clients/total", c.sessions());
        m.put(PREFIX + "clients/maximum", metrics.clientsMaximum.get());
        m.put(PREFIX + "clients/disconnected", Math.max(0, c.sessions() - c.sessionsOnline()));
        m.put(PREFIX + "clients/connected", connected);
        m.put(PREFIX + "clients/expired", metrics.sessionsExpired.sum());
        m.put(PREFIX + "messages/stored", c.storedMessages());
        m.put(PREFIX + "store/messages/bytes", c.storedBytes());
        m.put(PREFIX + "subscriptions/count", c.subscriptions());
        m.put(PREFIX + "shared_subscriptions/count", c.sharedSubscriptions());
        m.put(PREFIX + "retained messages/count", c.retainedMessages());
        m.put(PREFIX + "heap/current", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        m.put(PREFIX + "heap/maximum", heapPeak());
        m.put(PREFIX + "messages/received", metrics.packetsReceivedTotal());
        m.put(PREFIX + "messages/sent", metrics.packetsSentTotal());
        m.put(PREFIX + "bytes/received", metrics.bytesReceived.sum());
        m.put(PREFIX + "bytes/sent", metrics.bytesSent.sum());
        m.put(PREFIX + "publish/bytes/received", metrics.publishBytesReceived.sum());
        m.put(PREFIX + "publish/bytes/sent", metrics.publishBytesSent.sum());
        // Mosquitto: packets waiting to go out; here the messages waiting in session queues (in flight or not)
        m.put(PREFIX + "packet/out/count", c.queuedMessages() + c.inflightMessages());
        m.put(PREFIX + "packet/out/bytes", c.queuedBytes());
        m.put(PREFIX + "connections/socket/count", metrics.connectionsOpen.get());
        m.put(PREFIX + "publish/messages/dropped", metrics.messagesDropped());
        m.put(PREFIX + "publish/messages/received", metrics.publishesReceived.sum());
        m.put(PREFIX + "publish/messages/sent", metrics.publishesSent.sum());
        m.put(PREFIX + "uptime", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos));
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, m));
    }

    /** The most heap in use since the start: the sum of the heap pools' peaks. */
    private static long heapPeak() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak;
    }
}
