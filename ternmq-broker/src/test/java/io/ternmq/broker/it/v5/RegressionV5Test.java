package io.ternmq.broker.it.v5;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Regression tests for MQTT 5.0 rules the broker once broke (found by the MQTT 5 test work): a will's expiry counted
 * from CONNECT, a topic alias pushing a packet past the client's limit, resends ignoring a smaller Receive Maximum,
 * a refusing CONNACK above the client's limit, a capped Session Expiry Interval taken for a protocol error, and
 * resends that stalled after the first when a resumed client's Receive Maximum was smaller than before.
 */
class RegressionV5Test {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] (3.1.3.2.4) a will's Message Expiry Interval starts when the will is "
            + "published: a will "
            + "delayed 2 s with a lifetime of 1 s must still be delivered")
    void delayedWillExpiryCountsFromPublication() {
        try (Paho5Client watcher = Paho5Client.connect(broker, "bug-watcher").subscribe("will/#", 1)) {
            MqttProperties willProps = MqttProperties.builder().set(PropertyId.WILL_DELAY_INTERVAL, 2L)
                    .set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 1L).build();
            RawV5.connected(broker, RawV5.connect("bug-dying", true, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L),
                    RawV5.will("will/bug-dying", "bye", QoS.AT_LEAST_ONCE, false, willProps))).close();
            Paho5Client.Received r = watcher.poll(5000);
            assertThat(r).as("the will, published after its 2 s delay with its 1 s lifetime still ahead").isNotNull();
            assertThat(r.payload()).isEqualTo("bye");
            assertThat(r.properties().getMessageExpiryInterval()).isEqualTo(1L);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] a PUBLISH that fits the client's Maximum Packet Size without a Topic Alias must not "
            + "exceed it once the broker adds a Topic Alias")
    void topicAliasMustNotPushPacketOverMaximumPacketSize() {
        String payload = "p".repeat(50);
        Publish plain = new Publish("bug/t", QoS.AT_MOST_ONCE, false, false, 0,
                payload.getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY);
        int limit = MqttPacketEncoder.encodedSize(plain, MqttVersion.MQTT_5);
        MqttProperties p = MqttProperties.builder().set(PropertyId.MAXIMUM_PACKET_SIZE, (long) limit)
                .set(PropertyId.TOPIC_ALIAS_MAXIMUM, 5).build();
        try (RawClient sub = RawV5.connected(broker, RawV5.connect("bug-alias-sub", true, 60, p));
             RawClient pub = RawV5.connected(broker, "bug-alias-pub")) {
            RawV5.subscribe(sub, "bug/#", QoS.AT_MOST_ONCE);
            pub.send(RawV5.publish("bug/t", QoS.AT_MOST_ONCE, 0, payload));
            pub.send(RawV5.publish("bug/t", QoS.AT_MOST_ONCE, 0, "marker"));
            // Either the message arrives within the limit (e.g. without an alias) or it is dropped; then the marker.
            Publish first = sub.read(Publish.class);
            int size = MqttPacketEncoder.encodedSize(first, MqttVersion.MQTT_5);
            assertThat(size).as("bytes of %s (limit %d)", first, limit).isLessThanOrEqualTo(limit);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-9] (4.9) on resuming a session the broker resends in-flight QoS 1 messages only as far "
            + "as the new connection's Receive Maximum (1) allows")
    void resendRespectsNewReceiveMaximum() {
        MqttProperties first = MqttProperties.builder().set(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)
                .set(PropertyId.RECEIVE_MAXIMUM, 5).build();
        try (RawClient sub = RawV5.connected(broker, RawV5.connect("bug-rm", true, 60, first))) {
            RawV5.subscribe(sub, "bugrm/#", QoS.AT_LEAST_ONCE);
            try (RawClient pub = RawV5.connected(broker, "bug-rm-pub")) {
                for (int i = 1; i <= 3; i++) {
                    pub.send(RawV5.publish("bugrm/t", QoS.AT_LEAST_ONCE, i, "m" + i));
                    pub.read(Puback.class);
                }
            }
            for (int i = 1; i <= 3; i++) {
                sub.read(Publish.class); // received, never acknowledged
            }
        }
        MqttProperties second = MqttProperties.builder().set(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)
                .set(PropertyId.RECEIVE_MAXIMUM, 1).build();
        try (RawClient sub = RawV5.open(broker)) {
            Connack ack = RawV5.connack(sub, RawV5.connect("bug-rm", false, 60, second));
            assertThat(ack.sessionPresent()).isTrue();
            // the resends go out right after CONNACK; everything before the PINGRESP is what the broker sent at once
            sub.send(Pingreq.INSTANCE);
            List<MqttPacket> beforePong = new ArrayList<>();
            MqttPacket p;
            while (!((p = sub.read()) instanceof Pingresp)) {
                beforePong.add(p);
            }
            assertThat(beforePong).as("PUBLISHes sent without acknowledgement to a client with Receive Maximum 1")
                    .filteredOn(x -> x instanceof Publish).hasSizeLessThanOrEqualTo(1);
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-19] a refusing CONNACK (will QoS above Maximum QoS) must not carry a Reason String that "
            + "makes it larger than the client's Maximum Packet Size (16)")
    void refusingConnackRespectsClientMaximumPacketSize() {
        try (TestBroker qos1 = TestBroker.start(b -> b.maxQos(1)); RawClient c = RawV5.open(qos1)) {
            MqttProperties p = MqttProperties.builder().set(PropertyId.MAXIMUM_PACKET_SIZE, 16L).build();
            Connack ack = RawV5.connack(c, RawV5.connect("bug-small", true, 60, p,
                    RawV5.will("will/x", "bye", QoS.EXACTLY_ONCE, false, MqttProperties.EMPTY)));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
            assertThat(MqttPacketEncoder.encodedSize(ack, MqttVersion.MQTT_5)).as("CONNACK %s", ack.properties())
                    .isLessThanOrEqualTo(16);
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.4-3] (3.14.2.2.2) CONNECT with Session Expiry 100, capped to 0 by the broker, then "
            + "DISCONNECT 0x00 with Session Expiry 50 is no protocol error: the will is discarded, not published")
    void disconnectExpiryAfterCappedToZero() {
        try (TestBroker capped = TestBroker.start(b -> b.maxSessionExpiryInterval(0));
             Paho5Client watcher = Paho5Client.connect(capped, "bug-cap-watcher").subscribe("will/#", 1);
             RawClient c = RawV5.open(capped)) {
            Connack ack = RawV5.connack(c, RawV5.connect("bug-capped", true, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 100L),
                    RawV5.will("will/bug-capped", "bye", QoS.AT_LEAST_ONCE, false, MqttProperties.EMPTY)));
            assertThat(ack.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL)).isZero();
            c.send(new Disconnect(ReasonCode.NORMAL_DISCONNECTION,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 50L)));
            List<MqttPacket> got = RawV5.readUntilClosed(c);
            assertThat(got).as("the broker's answer to a valid DISCONNECT").isEmpty();
            assertThat(watcher.poll(700)).as("will after DISCONNECT 0x00").isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-4.4.0-1][MQTT-3.3.4-9] on resumption with Receive Maximum 1 every unacknowledged QoS 1 message "
            + "is resent (DUP 1, same packet identifier), the next one after each PUBACK")
    void resumeResendsEverythingWithinNewReceiveMaximum() {
        MqttProperties first = MqttProperties.builder().set(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)
                .set(PropertyId.RECEIVE_MAXIMUM, 5).build();
        List<Integer> ids = new ArrayList<>();
        try (RawClient sub = RawV5.connected(broker, RawV5.connect("bug-resume", true, 60, first));
             RawClient pub = RawV5.connected(broker, "bug-resume-pub")) {
            RawV5.subscribe(sub, "bugresume/#", QoS.AT_LEAST_ONCE);
            for (int i = 1; i <= 3; i++) {
                pub.send(RawV5.publish("bugresume/t", QoS.AT_LEAST_ONCE, i, "m" + i));
                pub.read(Puback.class);
            }
            for (int i = 1; i <= 3; i++) {
                ids.add(sub.read(Publish.class).packetId()); // never acknowledged on this connection
            }
        }
        MqttProperties second = MqttProperties.builder().set(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)
                .set(PropertyId.RECEIVE_MAXIMUM, 1).build();
        try (RawClient sub = RawV5.open(broker)) {
            assertThat(RawV5.connack(sub, RawV5.connect("bug-resume", false, 60, second)).sessionPresent()).isTrue();
            for (int i = 1; i <= 3; i++) {
                Publish p;
                try {
                    p = sub.read(Publish.class);
                } catch (AssertionError e) {
                    throw new AssertionError("resend of m" + i + " (after " + (i - 1) + " PUBACKs): " + e.getMessage(),
                            e);
                }
                assertThat(RawV5.payload(p)).isEqualTo("m" + i);
                assertThat(p.dup()).as("[MQTT-3.3.1-1] a resend has DUP 1").isTrue();
                assertThat(p.packetId()).isEqualTo(ids.get(i - 1));
                sub.send(new Puback(p.packetId()));
            }
        }
    }
}
