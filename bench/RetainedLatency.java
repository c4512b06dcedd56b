import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Retained messages across cluster nodes, for bench/cluster-retained.sh (run with the Paho v5 jar on the class path,
 * Java's source launcher):
 * <pre>
 * latency PUB_URI SUB_URI ROUNDS   PUBACK time of a QoS 1 PUBLISH without and with RETAIN on PUB_URI's node, and the
 *                                  time from a retained PUBLISH to its retained copy at a new subscription on SUB_URI
 * fill URI COUNT                   COUNT retained QoS 1 messages bench/r/0.. (50 in flight)
 * </pre>
 */
public final class RetainedLatency {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("fill")) {
            fill(args[1], Integer.parseInt(args[2]));
        } else {
            latency(args[1], args[2], Integer.parseInt(args[3]));
        }
    }

    private static MqttAsyncClient connect(String uri, String id, BlockingQueue<String> received) throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient(uri, id, new MemoryPersistence());
        c.setCallback(new MqttCallback() {
            public void disconnected(MqttDisconnectResponse r) { }
            public void mqttErrorOccurred(MqttException e) { }
            public void messageArrived(String topic, MqttMessage m) {
                received.add(topic);
            }
            public void deliveryComplete(IMqttToken t) { }
            public void connectComplete(boolean reconnect, String uri) { }
            public void authPacketArrived(int code, MqttProperties p) { }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        c.connect(o).waitForCompletion(10_000);
        return c;
    }

    private static void latency(String pubUri, String subUri, int rounds) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        MqttAsyncClient pub = connect(pubUri, "bench-pub", new LinkedBlockingQueue<>());
        MqttAsyncClient sub = connect(subUri, "bench-sub", received);
        long[] plain = new long[rounds];
        long[] retained = new long[rounds];
        long[] seen = new long[rounds];
        byte[] payload = new byte[64];
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            pub.publish("bench/plain/" + i, payload, 1, false).waitForCompletion(10_000);
            long t1 = System.nanoTime();
            pub.publish("bench/ret/" + i, payload, 1, true).waitForCompletion(10_000);
            long t2 = System.nanoTime();
            sub.subscribe("bench/ret/" + i, 1).waitForCompletion(10_000);
            String topic = received.poll(10, TimeUnit.SECONDS);
            long t3 = System.nanoTime();
            if (!("bench/ret/" + i).equals(topic)) {
                throw new IllegalStateException("round " + i + ": got " + topic);
            }
            sub.unsubscribe("bench/ret/" + i).waitForCompletion(10_000);
            pub.publish("bench/ret/" + i, new byte[0], 1, true).waitForCompletion(10_000);
            plain[i] = t1 - t0;
            retained[i] = t2 - t1;
            seen[i] = t3 - t1;
        }
        report("PUBACK, QoS 1, not retained", plain);
        report("PUBACK, QoS 1, retained (map + every node)", retained);
        report("retained PUBLISH to its copy at a new subscription on the other node", seen);
        pub.disconnect().waitForCompletion(5_000);
        sub.disconnect().waitForCompletion(5_000);
        pub.close();
        sub.close();
    }

    private static void report(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf("%-72s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  (%d rounds)%n", what,
                s[s.length / 2] / 1e6, s[(int) (s.length * 0.9)] / 1e6, s[(int) (s.length * 0.99)] / 1e6, s.length);
    }

    private static void fill(String uri, int count) throws Exception {
        MqttAsyncClient pub = connect(uri, "bench-fill", new LinkedBlockingQueue<>());
        ArrayDeque<IMqttToken> window = new ArrayDeque<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (window.size() == 50) {
                window.poll().waitForCompletion(30_000);
            }
            while (true) {
                try {
                    window.add(pub.publish("bench/r/" + i, ("r" + i).getBytes(), 1, true));
                    break;
                } catch (MqttException e) {
                    if (e.getReasonCode() != 32202) { // too many publishes in progress
                        throw e;
                    }
                    window.poll().waitForCompletion(30_000); // Paho frees its slot a little after the token
                }
            }
        }
        for (IMqttToken t : window) {
            t.waitForCompletion(30_000);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("filled %d retained messages in %.1f s (%.0f/s)%n", count, s, count / s);
        pub.disconnect().waitForCompletion(5_000);
        pub.close();
    }
}
