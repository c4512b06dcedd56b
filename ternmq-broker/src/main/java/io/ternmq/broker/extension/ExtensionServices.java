package io.ternmq.broker.extension;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;
import io.ternmq.extension.api.ClientService;
import io.ternmq.extension.api.PublishService;
import io.ternmq.extension.api.RetainedService;
import io.ternmq.extension.api.SubscriptionService;
import io.ternmq.extension.api.UserProperty;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.CompletionStage;

/**
 * The broker's services as extensions call them: each a thin translation onto {@link BrokerService}, the one way in
 * for every entry point. Shared by all extensions; callable from any thread.
 */
final class ExtensionServices implements PublishService, SubscriptionService, ClientService, RetainedService {
    /** The publisher id of messages an extension publishes (no client can have it: ids never contain '$'...). */
    static final String PUBLISHER = "$extension";

    private final BrokerService service;
    private final SharedExtensionExecutor executor;

    ExtensionServices(BrokerService service, SharedExtensionExecutor executor) {
        this.service = service;
        this.executor = executor;
    }

    // ------------------------------------------------------------------ PublishService

    @Override
    public CompletionStage<Integer> publish(String topic, ByteBuffer payload, int qos, boolean retain,
                                            List<UserProperty> userProperties) {
        if (topic == null || !TopicSyntax.isValidTopicName(topic)) {
            throw new IllegalArgumentException("not a valid topic name: '" + topic + "'");
        }
        byte[] bytes = new byte[payload.remaining()];
        payload.duplicate().get(bytes);
        MqttProperties props = userProperties == null || userProperties.isEmpty() ? MqttProperties.EMPTY
                : MqttProperties.builder().userProperties(Properties5.toCodec(userProperties)).build();
        CompletableFuture<Integer> done = new CompletableFuture<>();
        // the answer of a QoS 1/2 publish comes on the store's writer thread: the extension's continuations must not
        // run there (one that blocks would hold every persistent publish of the broker)
        service.publishOwn(new Message(topic, QoS.of(qos), retain, bytes, props, PUBLISHER,
                System.currentTimeMillis()), (matched, quotaExceeded) -> completeElsewhere(done, matched));
        return done;
    }

    private void completeElsewhere(CompletableFuture<Integer> done, int matched) {
        try {
            executor.execute(() -> done.complete(matched));
        } catch (RejectedExecutionException e) {
            ForkJoinPool.commonPool().execute(() -> done.complete(matched)); // queue full, or stopping
        }
    }

    // ------------------------------------------------------------------ SubscriptionService

    @Override
    public CompletionStage<List<TopicSubscription>> subscriptions(String clientId) {
        return service.subscriptions(clientId).thenApply(list -> {
            List<TopicSubscription> out = new ArrayList<>(list.size());
            for (Subscription s : list) {
                out.add(new TopicSubscription(s.filter(), s.qos().value()));
            }
            return out;
        });
    }

    @Override
    public CompletionStage<Boolean> subscribe(String clientId, String filter, int qos) {
        if (filter == null || !TopicSyntax.isValidTopicFilter(filter)) {
            throw new IllegalArgumentException("not a valid topic filter: '" + filter + "'");
        }
        return service.subscribe(clientId, new Subscription(filter, QoS.of(qos)));
    }

    @Override
    public CompletionStage<Boolean> unsubscribe(String clientId, String filter) {
        return service.unsubscribe(clientId, filter);
    }

    // ------------------------------------------------------------------ ClientService

    @Override
    public boolean isConnected(String clientId) {
        return service.isConnected(clientId);
    }

    @Override
    public CompletionStage<Boolean> disconnect(String clientId, int reasonCode, String serverReference) {
        if (reasonCode < 0x80 || reasonCode > 0xFF) {
            throw new IllegalArgumentException("a DISCONNECT by the server has a reason code 0x80..0xFF, not 0x"
                    + Integer.toHexString(reasonCode));
        }
        return service.disconnect(clientId, reasonCode, "disconnected by an extension", serverReference);
    }

    // ------------------------------------------------------------------ RetainedService

    @Override
    public List<RetainedMessage> matching(String filter) {
        List<RetainedMessage> out = new ArrayList<>();
        for (Message m : service.retained(filter)) {
            out.add(new RetainedMessage(m.topic(), ByteBuffer.wrap(m.payload()).asReadOnlyBuffer(), m.qos().value()));
        }
        return out;
    }

    @Override
    public void remove(String topic) {
        // an empty retained message is how MQTT clears one; it is stored (and its removal survives a restart) the
        // same way
        publish(topic, ByteBuffer.allocate(0), 0, true, List.of());
    }
}
