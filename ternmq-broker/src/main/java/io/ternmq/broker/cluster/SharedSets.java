package io.ternmq.broker.cluster;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Small named sets of entries that every node of the cluster sees the same (the admin API's topic-metric
 * registrations and traces): a change on any node reaches every node, and a node that joins later, in the order the
 * changes were made. Each set is changed atomically, so a limit on its size holds across nodes. No Hazelcast type
 * shows here (the admin code that uses it loads no Hazelcast class on a single node).
 */
public interface SharedSets {

    /** What {@link #add} did. */
    enum Added { ADDED, ALREADY, FULL }

    /**
     * Adds {@code key} with {@code value} to the set, unless the key is in it already, or it holds {@code max} entries
     * none of which has ended ({@code endsAtMillis} before {@code nowMillis}; then the oldest ended one makes room).
     * The stage completes on some other thread.
     */
    CompletionStage<Added> add(String set, String key, Serializable value, long endsAtMillis, int max,
                               long nowMillis);

    /** Removes {@code key} from the set. @return a stage completing with whether it was there */
    CompletionStage<Boolean> remove(String set, String key);

    /**
     * Calls {@code watcher} with the set as it is now (blocking while it is read: not on an event loop), then with each
     * later version, in order, on Hazelcast's event thread: its entries, key to value, in the order they were added.
     */
    void watch(String set, Consumer<LinkedHashMap<String, Serializable>> watcher);
}
