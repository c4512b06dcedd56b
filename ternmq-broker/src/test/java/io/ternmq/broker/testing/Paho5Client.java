package io.ternmq.broker.testing;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An Eclipse Paho MQTT 5.0 client (the asynchronous one, driven synchronously) that collects what it receives, for
 * integration tests. Automatic subscription identifiers are off, so the identifiers on the wire are the test's.
 */
public final class Paho5Client implements AutoCloseable {
    private static final long WAIT_MILLIS = 5_000;

    /** A received message with the topic it came on. */
    public record Received(String topic, MqttMessage message) {
        public String payload() {
            return new String(message.getPayload(), StandardCharsets.UTF_8);
        }

        public MqttProperties properties() {
            return message.getProperties();
        }
    }

    private final MqttAsyncClient client;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private volatile MqttDisconnectResponse disconnected;
    private IMqttToken connectToken;

    private Paho5Client(MqttAsyncClient client) {
        this.client = client;
    }

    /** Options with clean start and the test defaults (no automatic reconnect, no automatic subscription ids). */
    public static MqttConnectionOptions options(boolean cleanStart) {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(cleanStart);
        o.setAutomaticReconnect(false);
        o.setUseSubscriptionIdentifiers(false);
        o.setConnectionTimeout(5);
        return o;
    }

    public static Paho5Client connect(TestBroker broker, String clientId) {
        return connect(broker, clientId, options(true));
    }

    public static Paho5Client connect(TestBroker broker, String clientId, MqttConnectionOptions options) {
        return connect(broker.uri(), clientId, options);
    }

    /** To any server URI: tcp://, ssl://, ws://host:port/path, wss://... */
    public static Paho5Client connect(String uri, String clientId, MqttConnectionOptions options) {
        try {
            MqttAsyncClient c = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
            Paho5Client pc = new Paho5Client(c);
            c.setCallback(new MqttCallback() {
                @Override
                public void disconnected(MqttDisconnectResponse response) {
                    pc.disconnected = response;
                }

                @Override
                public void mqttErrorOccurred(MqttException exception) {
                }

                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    pc.received.add(new Received(topic, message));
                }

                @Override
                public void deliveryComplete(IMqttToken token) {
                }

                @Override
                public void connectComplete(boolean reconnect, String serverURI) {
                }

                @Override
                public void authPacketArrived(int reasonCode, MqttProperties properties) {
                }
            });
            pc.connectToken = c.connect(options);
            pc.connectToken.waitForCompletion(WAIT_MILLIS);
            return pc;
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    public MqttAsyncClient client() {
        return client;
    }

    /** The token of the CONNECT: session present and the CONNACK properties. */
    public IMqttToken connectToken() {
        return connectToken;
    }

    public MqttProperties connackProperties() {
        return connectToken.getResponseProperties();
    }

    public Paho5Client subscribe(String filter, int qos) {
        subscribe(null, new MqttSubscription(filter, qos));
        return this;
    }

    /**
     * Subscribes with the given options and, if {@code subscriptionId} is not null, that Subscription Identifier.
     *
     * @return the SUBACK reason codes
     */
    public int[] subscribe(Integer subscriptionId, MqttSubscription... subscriptions) {
        MqttProperties props = new MqttProperties();
        if (subscriptionId != null) {
            props.setSubscriptionIdentifier(subscriptionId);
        }
        try {
            IMqttToken t = client.subscribe(subscriptions, null, null, props);
            t.waitForCompletion(WAIT_MILLIS);
            return t.getReasonCodes();
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Unsubscribes and waits for the UNSUBACK. */
    public void unsubscribe(String... filters) {
        try {
            client.unsubscribe(filters).waitForCompletion(WAIT_MILLIS);
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Publishes and waits for the flow to complete (PUBACK / PUBCOMP for QoS 1 / 2). @return the token */
    public IMqttToken publish(String topic, MqttMessage message) {
        try {
            IMqttToken t = client.publish(topic, message);
            t.waitForCompletion(WAIT_MILLIS);
            return t;
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    public IMqttToken publish(String topic, String payload, int qos, boolean retained) {
        return publish(topic, message(payload, qos, retained, new MqttProperties()));
    }

    public static MqttMessage message(String payload, int qos, boolean retained, MqttProperties properties) {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        m.setRetained(retained);
        m.setProperties(properties);
        return m;
    }

    /** The next message, waiting up to 5 s; fails if none arrives. */
    public Received next() {
        Received r = poll(WAIT_MILLIS);
        if (r == null) {
            throw new AssertionError("no message within 5 s");
        }
        return r;
    }

    /** Returns a message if one arrives within the time given, else null. */
    public Received poll(long millis) {
        try {
            return received.poll(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public BlockingQueue<Received> received() {
        return received;
    }

    /** What the client reported when the connection ended (a server DISCONNECT's reason code), or null. */
    public MqttDisconnectResponse disconnected() {
        return disconnected;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    /** Normal DISCONNECT (0x00). */
    public void disconnect() {
        disconnect(0, new MqttProperties());
    }

    /** DISCONNECT with the reason code and properties given (e.g. 0x04, or a Session Expiry Interval). */
    public void disconnect(int reasonCode, MqttProperties properties) {
        try {
            client.disconnect(1000, null, null, reasonCode, properties).waitForCompletion(WAIT_MILLIS);
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                // a normal DISCONNECT after what is in flight, so that teardown does not race the client's own acks
                try {
                    client.disconnect(200, null, null, 0, new MqttProperties()).waitForCompletion(1000);
                } catch (MqttException e) {
                    client.disconnectForcibly(100, 100, false);
                }
            }
            client.close(true);
        } catch (MqttException ignored) {
            // test teardown
        }
    }
}
