package io.ternmq.broker.protocol;

import io.ternmq.codec.MqttPacket;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Responses to a client's packets in the order the packets came, whichever is ready first: MQTT requires it of
 * PUBACK and PUBREC [MQTT-4.6.0-2][MQTT-4.6.0-3], and a SUBACK must precede the retained messages it promises. A
 * place is reserved when a packet arrives; {@link #complete} fills it and sends every ready response at the head.
 * Created on a connection's first packet that needs an answer: idle connections never get one.
 */
final class ResponseQueue {

    /** A reserved place. */
    static final class Response {
        private MqttPacket packet;
        private Runnable after;
        private boolean ready;
    }

    private final ArrayDeque<Response> waiting = new ArrayDeque<>(4);
    private final Consumer<MqttPacket> send;

    /** @param send writes a response to the client */
    ResponseQueue(Consumer<MqttPacket> send) {
        this.send = send;
    }

    Response reserve() {
        Response r = new Response();
        waiting.add(r);
        return r;
    }

    /**
     * Fills a reserved place and sends every ready response at the head, in order; each one's {@code after} runs
     * right after it is sent.
     */
    void complete(Response r, MqttPacket packet, Runnable after) {
        r.packet = packet;
        r.after = after;
        r.ready = true;
        Response head;
        while ((head = waiting.peek()) != null && head.ready) {
            waiting.poll();
            send.accept(head.packet);
            if (head.after != null) {
                head.after.run();
            }
        }
    }
}
