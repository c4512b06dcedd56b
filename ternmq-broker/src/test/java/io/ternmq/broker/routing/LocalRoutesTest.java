package io.ternmq.broker.routing;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class LocalRoutesTest {
    private final List<LocalRoutes.Change> announced = new ArrayList<>();
    private final LocalRoutes routes = new LocalRoutes();

    LocalRoutesTest() {
        routes.announceTo(announced::add);
    }

    @Test
    @DisplayName("a filter's first subscriber announces an add, its last one leaving a remove, numbered in order; "
            + "a shared subscription counts as its topic filter")
    void firstAndLastSubscriberAnnounce() {
        routes.subscribed("a/+");
        routes.subscribed("$share/g/a/+");
        routes.subscribed("b");
        routes.unsubscribed("a/+");
        routes.unsubscribed("$share/g/a/+");
        routes.unsubscribed("never");
        assertThat(announced).containsExactly(new LocalRoutes.Change(1, "a/+", true),
                new LocalRoutes.Change(2, "b", true), new LocalRoutes.Change(3, "a/+", false));
        List<String> snapshot = new ArrayList<>();
        assertThat(routes.snapshot(snapshot::add)).isEqualTo(3);
        assertThat(snapshot).containsExactly("b");
    }

    @Test
    @DisplayName("a SUBACK waits until every peer acknowledged the filter's add; a peer that leaves is not waited for")
    void waitsForEveryPeer() {
        AtomicInteger acknowledged = new AtomicInteger();
        routes.whenPeersHave(List.of("x"), acknowledged::incrementAndGet);
        assertThat(acknowledged).as("no peers, no local filter: at once").hasValue(1);

        routes.peerJoined("n2");
        routes.peerJoined("n3");
        routes.subscribed("x");
        routes.whenPeersHave(List.of("x"), acknowledged::incrementAndGet);
        assertThat(acknowledged).hasValue(1);
        routes.acknowledged("n2", 1);
        assertThat(acknowledged).as("n3 has not acknowledged").hasValue(1);
        routes.peerLeft("n3");
        assertThat(acknowledged).as("n3 left").hasValue(2);

        // a second subscriber of x waits for the still unacknowledged add of x
        routes.peerJoined("n4");
        routes.whenPeersHave(List.of("x"), acknowledged::incrementAndGet);
        assertThat(acknowledged).hasValue(2);
        routes.acknowledged("n4", 1);
        assertThat(acknowledged).hasValue(3);
    }
}
