package io.ternmq.broker.cluster;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DirectoryEntryTest {

    @Test
    @DisplayName("the string form reads back; what is not an entry reads as none")
    void encodeDecode() {
        DirectoryEntry e = new DirectoryEntry(42, "node-a", true);
        assertThat(DirectoryEntry.decode(e.encode())).isEqualTo(e);
        assertThat(DirectoryEntry.decode(new DirectoryEntry(1, "n b", false).encode()))
                .isEqualTo(new DirectoryEntry(1, "n b", false));
        assertThat(DirectoryEntry.decode(null)).isNull();
        assertThat(DirectoryEntry.decode("x 1 a")).isNull();
        assertThat(DirectoryEntry.decode("12")).isNull();
    }

    @Test
    @DisplayName("a claim raises the generation; the claimant holds at once only a session nobody else holds")
    void claim() {
        DirectoryEntry first = DirectoryEntry.claim(null, "a", true);
        assertThat(first).isEqualTo(new DirectoryEntry(1, "a", true));
        assertThat(DirectoryEntry.claim(first, "a", false)).isEqualTo(new DirectoryEntry(2, "a", false));
        DirectoryEntry byB = DirectoryEntry.claim(first, "b", false);
        assertThat(byB).as("a stays holder until b commits").isEqualTo(new DirectoryEntry(2, "a", true));
    }

    @Test
    @DisplayName("of two concurrent claims only the later one commits; an earlier one finds the generation moved on")
    void fencing() {
        DirectoryEntry held = DirectoryEntry.claim(null, "a", true);
        DirectoryEntry byB = DirectoryEntry.claim(held, "b", true);
        DirectoryEntry byC = DirectoryEntry.claim(byB, "c", true);
        assertThat(DirectoryEntry.commit(byC, byB.generation(), "b", true)).as("b's claim is stale").isNull();
        DirectoryEntry committed = DirectoryEntry.commit(byC, byC.generation(), "c", true);
        assertThat(committed).isEqualTo(new DirectoryEntry(3, "c", true));
        assertThat(DirectoryEntry.commit(null, 3, "c", true)).as("an entry that went away").isNull();
    }

    @Test
    @DisplayName("a session that ends releases its entry only if it still holds it and nobody claimed since")
    void release() {
        DirectoryEntry held = new DirectoryEntry(5, "a", true);
        assertThat(DirectoryEntry.releases(held, "a", 5)).isTrue();
        assertThat(DirectoryEntry.releases(held, "a", 4)).as("claimed again since (by another node)").isFalse();
        assertThat(DirectoryEntry.releases(held, "b", 5)).as("another node holds it").isFalse();
        assertThat(DirectoryEntry.releases(null, "a", 5)).isFalse();
    }
}
