package io.ternmq.codec;

import static io.ternmq.codec.WireReader.malformed;
import static io.ternmq.codec.WireReader.protocolError;
import static io.ternmq.codec.WireReader.readByte;
import static io.ternmq.codec.WireReader.readPacketId;
import static io.ternmq.codec.WireReader.readUtf8;
import static io.ternmq.codec.WireReader.rule;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * SUBSCRIBE and UNSUBSCRIBE. In MQTT 3.x an invalid topic filter is a malformed packet and the server closes the
 * connection; in MQTT 5.0 the server answers each invalid filter with reason code 0x8F, so filter syntax is left to
 * the broker there (the filter must still be well-formed UTF-8).
 */
final class SubscribeDecoder {
    private SubscribeDecoder() {
    }

    static Subscribe decodeSubscribe(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        int packetId = readPacketId(body, version);
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.SUBSCRIBE)
                : MqttProperties.EMPTY;
        List<TopicSubscription> subscriptions = new ArrayList<>();
        while (body.isReadable()) {
            String filter = readFilter(body, version);
            int options = readByte(body, "subscription options");
            subscriptions.add(version.isV5() ? options5(filter, options) : options3(filter, options));
        }
        if (subscriptions.isEmpty()) {
            throw malformed(rule(version, "MQTT-3.8.3-3", "MQTT-3.8.3-2"), "SUBSCRIBE without a topic filter");
        }
        return new Subscribe(packetId, subscriptions, properties);
    }

    static Unsubscribe decodeUnsubscribe(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        int packetId = readPacketId(body, version);
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.UNSUBSCRIBE)
                : MqttProperties.EMPTY;
        List<String> filters = new ArrayList<>();
        while (body.isReadable()) {
            filters.add(readFilter(body, version));
        }
        if (filters.isEmpty()) {
            throw malformed("MQTT-3.10.3-2", "UNSUBSCRIBE without a topic filter");
        }
        return new Unsubscribe(packetId, filters, properties);
    }

    private static String readFilter(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        String filter = readUtf8(body, version, "topic filter");
        if (!version.isV5()) {
            TopicSyntax.Problem problem = TopicSyntax.filterProblem(filter);
            if (problem != null) {
                throw malformed(problem.rule(), problem.message() + ": \"" + filter + "\"");
            }
        }
        return filter;
    }

    /** MQTT 3.x: the byte is the requested QoS; its upper 6 bits are reserved [MQTT-3-8.3-4]. */
    private static TopicSubscription options3(String filter, int options) throws MalformedPacketException {
        if ((options & 0xFC) != 0 || (options & 0x03) == 3) {
            throw malformed("MQTT-3-8.3-4", "invalid requested QoS byte 0x" + Integer.toHexString(options));
        }
        return new TopicSubscription(filter, QoS.of(options));
    }

    /** MQTT 5.0: QoS, No Local, Retain As Published, Retain Handling; bits 6-7 reserved [MQTT-3.8.3-5]. */
    private static TopicSubscription options5(String filter, int options) throws MalformedPacketException {
        if ((options & 0xC0) != 0) {
            throw malformed("MQTT-3.8.3-5", "subscription options reserved bits are set");
        }
        int qos = options & 0x03;
        if (qos == 3) {
            throw protocolError(null, "subscription Maximum QoS 3");
        }
        boolean noLocal = (options & 0x04) != 0;
        boolean retainAsPublished = (options & 0x08) != 0;
        int retainHandling = (options >>> 4) & 0x03;
        if (retainHandling == 3) {
            throw protocolError(null, "Retain Handling 3");
        }
        if (noLocal && TopicSyntax.isSharedSubscription(filter)) {
            throw protocolError("MQTT-3.8.3-4", "No Local on a shared subscription");
        }
        return new TopicSubscription(filter, QoS.of(qos), noLocal, retainAsPublished, retainHandling);
    }
}
