package io.ternmq.broker.protocol;

import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;

import java.util.List;

/**
 * How MQTT 3.x and MQTT 5.0 say the same thing differently: the reason code each answer carries (MQTT 3.x has a few
 * CONNACK return codes, one SUBACK failure code and no negative PUBACK/PUBREC) and the diagnostics a packet may carry
 * (reason strings and user properties, MQTT 5 only). The flows decide what happened; this class says it in the
 * client's version.
 */
enum Dialect {
    V3 {
        @Override
        boolean isV5() {
            return false;
        }
    },
    V5 {
        @Override
        boolean isV5() {
            return true;
        }
    };

    static Dialect of(MqttVersion version) {
        return version.isV5() ? V5 : V3;
    }

    abstract boolean isV5();

    // ------------------------------------------------------------------ CONNACK

    int identifierRejected() {
        return isV5() ? ReasonCode.CLIENT_IDENTIFIER_NOT_VALID : ReasonCode.V3_IDENTIFIER_REJECTED;
    }

    int serverUnavailable() {
        return isV5() ? ReasonCode.SERVER_UNAVAILABLE : ReasonCode.V3_SERVER_UNAVAILABLE;
    }

    /** A CONNECT beyond {@code max_connections}. */
    int connectionQuotaExceeded() {
        return isV5() ? ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SERVER_UNAVAILABLE;
    }

    /**
     * A CONNACK refusal an extension chose, in MQTT 5 terms: 3.x clients get the nearest of their five return codes
     * (a redirect, which 3.x cannot express, becomes server unavailable).
     */
    int connackRefusal(int v5Code) {
        if (isV5()) {
            return v5Code;
        }
        return switch (v5Code) {
            case ReasonCode.CLIENT_IDENTIFIER_NOT_VALID -> ReasonCode.V3_IDENTIFIER_REJECTED;
            case ReasonCode.BAD_USER_NAME_OR_PASSWORD -> ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD;
            case ReasonCode.NOT_AUTHORIZED, ReasonCode.BANNED -> ReasonCode.V3_NOT_AUTHORIZED;
            case ReasonCode.UNSUPPORTED_PROTOCOL_VERSION -> ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION;
            default -> ReasonCode.V3_SERVER_UNAVAILABLE;
        };
    }

    int notAuthorized() {
        return isV5() ? ReasonCode.NOT_AUTHORIZED : ReasonCode.V3_NOT_AUTHORIZED;
    }

    /**
     * A will the broker cannot honour, refused with MQTT 5's code for it; MQTT 3.x has none, so it is refused as not
     * authorized.
     */
    int willRefused(int v5Code) {
        return isV5() ? v5Code : ReasonCode.V3_NOT_AUTHORIZED;
    }

    // ------------------------------------------------------------------ acknowledgements

    /** A refused topic filter in SUBACK: MQTT 3.x has one failure code for every reason. */
    int subscriptionRefused(int v5Code) {
        return isV5() ? v5Code : ReasonCode.V3_SUBACK_FAILURE;
    }

    /** A PUBACK/PUBREC code: MQTT 3.x acknowledges with success whatever happened. */
    int publishAck(int v5Code) {
        return isV5() ? v5Code : ReasonCode.SUCCESS;
    }

    /** PUBREL/PUBCOMP for a packet id the other side does not know. */
    int unknownPacketId() {
        return isV5() ? ReasonCode.PACKET_IDENTIFIER_NOT_FOUND : ReasonCode.SUCCESS;
    }

    // ------------------------------------------------------------------ diagnostics

    /** A reason string for CONNACK or DISCONNECT, which always may carry one (MQTT 5). */
    MqttProperties reasonString(String why) {
        return isV5() ? MqttProperties.builder().set(PropertyId.REASON_STRING, why).build() : MqttProperties.EMPTY;
    }

    /** A reason string for another acknowledgement: only where the client asked for problem information. */
    MqttProperties problem(String why, boolean requested) {
        return requested ? reasonString(why) : MqttProperties.EMPTY;
    }

    /**
     * The packet as it may go to a client with this Maximum Packet Size: diagnostics dropped rather than exceed it
     * [MQTT-3.1.2-29][MQTT-3.4.2-2], and a CONNACK cut down to what the client cannot do without [MQTT-3.1.2-24].
     */
    MqttPacket fit(MqttPacket packet, int clientMaximumPacketSize) {
        if (!isV5() || clientMaximumPacketSize == Integer.MAX_VALUE) {
            return packet;
        }
        if (hasDiagnostics(packet) && MqttPacketEncoder.encodedSize(packet, MqttVersion.MQTT_5) > clientMaximumPacketSize) {
            packet = withoutDiagnostics(packet);
        }
        if (packet instanceof Connack c && MqttPacketEncoder.encodedSize(c, MqttVersion.MQTT_5) > clientMaximumPacketSize) {
            MqttProperties.Builder b = MqttProperties.builder();
            for (PropertyId id : List.of(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, PropertyId.AUTHENTICATION_METHOD,
                    PropertyId.AUTHENTICATION_DATA)) {
                b.set(id, c.properties().get(id));
            }
            packet = new Connack(c.sessionPresent(), c.reasonCode(), b.build());
        }
        return packet;
    }

    private static boolean hasDiagnostics(MqttPacket p) {
        MqttProperties props = switch (p.type()) {
            case CONNACK -> ((Connack) p).properties();
            case DISCONNECT -> ((Disconnect) p).properties();
            case PUBACK -> ((Puback) p).properties();
            case PUBREC -> ((Pubrec) p).properties();
            case SUBACK -> ((Suback) p).properties();
            default -> MqttProperties.EMPTY;
        };
        return props.contains(PropertyId.REASON_STRING) || !props.userProperties().isEmpty();
    }

    private static MqttPacket withoutDiagnostics(MqttPacket p) {
        return switch (p.type()) {
            case CONNACK -> {
                Connack c = (Connack) p;
                yield new Connack(c.sessionPresent(), c.reasonCode(), strip(c.properties()));
            }
            case DISCONNECT -> new Disconnect(((Disconnect) p).reasonCode(), strip(((Disconnect) p).properties()));
            case PUBACK -> new Puback(((Puback) p).packetId(), ((Puback) p).reasonCode(), MqttProperties.EMPTY);
            case PUBREC -> new Pubrec(((Pubrec) p).packetId(), ((Pubrec) p).reasonCode(), MqttProperties.EMPTY);
            case SUBACK -> new Suback(((Suback) p).packetId(), ((Suback) p).reasonCodes(), MqttProperties.EMPTY);
            default -> p;
        };
    }

    private static MqttProperties strip(MqttProperties props) {
        return props.toBuilder().set(PropertyId.REASON_STRING, null).clearUserProperties().build();
    }
}
