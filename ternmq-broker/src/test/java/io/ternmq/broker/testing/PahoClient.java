package io.ternmq.broker.testing;

import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An Eclipse Paho v3 client that collects what it receives, for integration tests. */
public final class PahoClient implements AutoCloseable {

    /** A received message with the topic it came on. */
    public record Received(String topic, MqttMessage message) {
        public String payload() {
            return new String(message.getPayload(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final MqttClient client;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private volatile Throwable connectionLost;
    private boolean sessionPresent;

    private PahoClient(MqttClient client) {
        this.client = client;
    }

    public static PahoClient connect(TestBroker broker, String clientId, boolean cleanSession) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(cleanSession);
        return connect(broker, clientId, o);
    }

    public static PahoClient connect(TestBroker broker, String clientId, MqttConnectOptions options) {
        return connect(broker.uri(), clientId, options);
    }

    /** Connects to a broker at {@code uri} ({@code tcp://host:port}), e.g. a broker process. */
    public static PahoClient connect(String uri, String clientId, boolean cleanSession) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(cleanSession);
        return connect(uri, clientId, o);
    }

    /** To any server URI: tcp://, ssl://, ws://host:port/path, wss://... */
    public static PahoClient connect(String uri, String clientId, MqttConnectOptions options) {
        return connect(uri, clientId, options, false);
    }

    /**
     * Like {@link #connect(String, String, MqttConnectOptions)}, the test acknowledging each QoS 1/2 message itself
     * ({@link #acknowledge}). Paho otherwise sends the PUBACK from its callback thread after the message reached the
     * test, so a DISCONNECT the test sends at once may leave before it (the message then stays in flight).
     */
    public static PahoClient connectAcknowledgingManually(String uri, String clientId, MqttConnectOptions options) {
        return connect(uri, clientId, options, true);
    }

    private static PahoClient connect(String uri, String clientId, MqttConnectOptions options, boolean manualAcks) {
        try {
            MqttClient c = new MqttClient(uri, clientId, new MemoryPersistence());
            c.setManualAcks(manualAcks);
            PahoClient pc = new PahoClient(c);
            c.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                    pc.connectionLost = cause;
                }

                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    pc.received.add(new Received(topic, message));
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            if (options.getMaxInflight() < 100) {
                options.setMaxInflight(100);
            }
            pc.sessionPresent = c.connectWithResult(options).getSessionPresent();
            return pc;
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Session Present in the CONNACK. */
    public boolean sessionPresent() {
        return sessionPresent;
    }

    public MqttClient client() {
        return client;
    }

    public PahoClient subscribe(String filter, int qos) {
        try {
            client.subscribe(filter, qos);
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
        return this;
    }

    public void publish(String topic, String payload, int qos, boolean retained) {
        publish(topic, payload.getBytes(java.nio.charset.StandardCharsets.UTF_8), qos, retained);
    }

    public void publish(String topic, byte[] payload, int qos, boolean retained) {
        try {
            client.publish(topic, payload, qos, retained);
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The next message, waiting up to 5 s; fails if none arrives. */
    public Received next() {
        try {
            Received r = received.poll(5, TimeUnit.SECONDS);
            if (r == null) {
                throw new AssertionError("no message within 5 s");
            }
            return r;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
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

    public Throwable connectionLost() {
        return connectionLost;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    /** Acknowledges a message received on a client connected with {@link #connectAcknowledgingManually}. */
    public void acknowledge(Received r) {
        try {
            client.messageArrivedComplete(r.message().getId(), r.message().getQos());
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    public void disconnect() {
        try {
            client.disconnect();
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnectForcibly(100, 100);
            }
            client.close(true);
        } catch (MqttException ignored) {
            // test teardown
        }
    }
}
