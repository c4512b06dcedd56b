package io.ternmq.broker.cluster;

import io.netty.util.concurrent.DefaultEventExecutor;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.session.Adoption;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionHost;
import io.ternmq.broker.store.MemoryStore;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which sessions of a node lack a QoS 2 message its publisher sent again after its own node died: the node had it
 * (forwarded for some of its sessions before that death), yet a session adopted since from the dead node itself was
 * not here then, and its replica decides (a chaos run lost a message this way).
 */
class Qos2ResendsTest {
    private final DefaultEventExecutor loop = new DefaultEventExecutor();
    private final MemoryStore store = new MemoryStore();
    private final SessionHost host = new SessionHost() {
        @Override
        public void endSession(Session session) {
        }

        @Override
        public void publishWill(Message will) {
        }

        @Override
        public void redirectShared(Delivery delivery) {
        }
    };

    @AfterEach
    void stop() {
        loop.shutdownGracefully();
    }

    private Session session(String clientId, Adoption adoption) {
        Session s = new Session(clientId, 600, loop, new QueueLimits(1000, -1, true, false, 20), new BrokerMetrics(),
                host, store);
        s.adoptedFrom(adoption);
        return s;
    }

    private static Message message(String payload) {
        return new Message("t", QoS.EXACTLY_ONCE, false, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.EMPTY, "pub", 1234);
    }

    @Test
    @DisplayName("a resend this node had before goes only to the sessions adopted from the publisher's dead node whose "
            + "replica lacked it")
    void hadItButNotTheSessionsAdoptedFromTheDeadNode() {
        Qos2Resends resends = new Qos2Resends(new OrphanedForwards(null, null, null, null));
        Message m = message("m");
        resends.received(m, 7); // forwarded here before the publisher's node died, for the sessions here then
        long until = System.currentTimeMillis() + 60_000;
        Session here = session("here", null);
        Session lacking = session("lacking", new Adoption("dead-run", Set.of(), until));
        Session holding = session("holding", new Adoption("dead-run", Set.of(MessageIdentity.of(m)), until));
        Session elsewhere = session("elsewhere", new Adoption("other-run", Set.of(), until));

        Predicate<io.ternmq.broker.routing.DeliveryTarget> lacks = resends.lacking(m, 7, "dead-run");

        assertThat(lacks.test(here)).as("here when it came").isFalse();
        assertThat(lacks.test(lacking)).as("adopted from the dead node, replica without it").isTrue();
        assertThat(lacks.test(holding)).as("adopted from the dead node, replica with it").isFalse();
        assertThat(lacks.test(elsewhere)).as("adopted from another dead node, here when it came").isFalse();
    }

    @Test
    @DisplayName("a resend this node never had goes to every session but those adopted from the dead node whose "
            + "replica held it")
    void neverHadIt() {
        Qos2Resends resends = new Qos2Resends(new OrphanedForwards(null, null, null, null));
        Message m = message("m");
        long until = System.currentTimeMillis() + 60_000;
        Predicate<io.ternmq.broker.routing.DeliveryTarget> lacks = resends.lacking(m, 7, "dead-run");

        assertThat(lacks.test(session("here", null))).isTrue();
        assertThat(lacks.test(session("lacking", new Adoption("dead-run", Set.of(), until)))).isTrue();
        assertThat(lacks.test(session("holding", new Adoption("dead-run", Set.of(MessageIdentity.of(m)), until))))
                .isFalse();
        // adopted from the dead node's adopter, which died too: the replica it was adopted from named the message
        assertThat(lacks.test(session("via", new Adoption("adopter-run", Set.of(MessageIdentity.of(m)), until))))
                .isFalse();
        // adopted from another run long ago: its set forgotten, it is not taken to hold what it never named
        assertThat(lacks.test(session("old", new Adoption("adopter-run", Set.of(), 0)))).isTrue();
    }
}
