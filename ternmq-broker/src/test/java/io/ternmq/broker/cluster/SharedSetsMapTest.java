package io.ternmq.broker.cluster;

import io.ternmq.broker.cluster.SharedSetsMap.Contents;
import io.ternmq.broker.cluster.SharedSetsMap.Item;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A shared set's change, as its entry processor makes it on the key's owner. */
class SharedSetsMapTest {

    @Test
    @DisplayName("an entry is added once, in order, each change a new version; a full set takes no more until an "
            + "ended entry (the oldest ended first) makes room")
    void addsWithinTheLimit() {
        Contents c = SharedSetsMap.added(null, "a", new Item("A", Long.MAX_VALUE), 2, 100);
        assertThat(c.version()).isEqualTo(1);
        assertThat(SharedSetsMap.added(c, "a", new Item("A2", Long.MAX_VALUE), 2, 100)).as("there already").isNull();
        c = SharedSetsMap.added(c, "b", new Item("B", 150), 2, 100);
        assertThat(c.items().keySet()).containsExactly("a", "b");
        assertThat(c.version()).isEqualTo(2);
        assertThat(SharedSetsMap.added(c, "c", new Item("C", 500), 2, 100)).as("full, nothing ended").isNull();
        Contents later = SharedSetsMap.added(c, "c", new Item("C", 500), 2, 200);
        assertThat(later.items().keySet()).as("b ended at 150").containsExactly("a", "c");
        assertThat(later.items().get("c").value()).isEqualTo("C");
        assertThat(later.version()).isEqualTo(3);
        assertThat(c.items().keySet()).as("the earlier version unchanged").containsExactly("a", "b");
    }
}
