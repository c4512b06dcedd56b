package io.ternmq.broker.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;

import java.io.Serializable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * {@link SharedSets} on Hazelcast: the map {@value #MAP} (with {@code cluster.backup_count} synchronous backups) holds
 * each set as one entry, a versioned {@link Contents}, changed by entry processors (atomic on the key's partition
 * owner, so a set's limit holds whichever nodes add at once). Each node watches the entries it uses with an entry
 * listener and applies every version newer than the one it applied (a merge after a split: whatever the merge kept).
 * One of the classes that touch Hazelcast (docs/ARCHITECTURE.md).
 */
final class SharedSetsMap implements SharedSets {
    static final String MAP = "ternmq.shared-sets";

    /** One entry of a set: its value, and when it ends (may make room for another after then). */
    record Item(Serializable value, long endsAtMillis) implements Serializable {
    }

    /** A set: its entries in the order they were added, and how many changes made it. */
    record Contents(long version, LinkedHashMap<String, Item> items) implements Serializable {
    }

    private final IMap<String, Contents> map;

    SharedSetsMap(HazelcastInstance hazelcast) {
        this.map = hazelcast.getMap(MAP);
    }

    @Override
    public CompletionStage<Added> add(String set, String key, Serializable value, long endsAtMillis, int max,
                                      long nowMillis) {
        return map.submitToKey(set, new AddProcessor(key, new Item(value, endsAtMillis), max, nowMillis));
    }

    @Override
    public CompletionStage<Boolean> remove(String set, String key) {
        return map.submitToKey(set, new RemoveProcessor(key));
    }

    @Override
    public void watch(String set, Consumer<LinkedHashMap<String, Serializable>> watcher) {
        Watcher w = new Watcher(watcher);
        // first the listener, then the read: a change in between arrives as an event, and versions order the two
        map.addEntryListener(w, set, true);
        w.apply(map.get(set), false);
    }

    /** A set's entries after the change {@code add} describes: the same if the key is there or the set is full. */
    static Contents added(Contents now, String key, Item item, int max, long nowMillis) {
        LinkedHashMap<String, Item> items = now == null ? new LinkedHashMap<>() : new LinkedHashMap<>(now.items());
        if (items.containsKey(key)) {
            return null;
        }
        if (items.size() >= max) {
            Iterator<Map.Entry<String, Item>> i = items.entrySet().iterator();
            boolean room = false;
            while (i.hasNext()) {
                if (i.next().getValue().endsAtMillis() < nowMillis) {
                    i.remove();
                    room = true;
                    break;
                }
            }
            if (!room) {
                return null;
            }
        }
        items.put(key, item);
        return new Contents(now == null ? 1 : now.version() + 1, items);
    }

    private record AddProcessor(String key, Item item, int max, long nowMillis)
            implements EntryProcessor<String, Contents, Added> {
        @Override
        public Added process(Map.Entry<String, Contents> e) {
            Contents now = e.getValue();
            if (now != null && now.items().containsKey(key)) {
                return Added.ALREADY;
            }
            Contents after = added(now, key, item, max, nowMillis);
            if (after == null) {
                return Added.FULL;
            }
            e.setValue(after);
            return Added.ADDED;
        }
    }

    private record RemoveProcessor(String key) implements EntryProcessor<String, Contents, Boolean> {
        @Override
        public Boolean process(Map.Entry<String, Contents> e) {
            Contents now = e.getValue();
            if (now == null || !now.items().containsKey(key)) {
                return false;
            }
            LinkedHashMap<String, Item> items = new LinkedHashMap<>(now.items());
            items.remove(key);
            e.setValue(new Contents(now.version() + 1, items));
            return true;
        }
    }

    /** Hands each newer version of one set to its watcher, on Hazelcast's event thread. */
    private static final class Watcher implements EntryAddedListener<String, Contents>,
            EntryUpdatedListener<String, Contents>, EntryMergedListener<String, Contents> {
        private final Consumer<LinkedHashMap<String, Serializable>> watcher;
        private long applied = -1;

        Watcher(Consumer<LinkedHashMap<String, Serializable>> watcher) {
            this.watcher = watcher;
        }

        @Override
        public void entryAdded(EntryEvent<String, Contents> event) {
            apply(event.getValue(), false);
        }

        @Override
        public void entryUpdated(EntryEvent<String, Contents> event) {
            apply(event.getValue(), false);
        }

        @Override
        public void entryMerged(EntryEvent<String, Contents> event) {
            apply(event.getValue(), true);
        }

        synchronized void apply(Contents c, boolean merged) {
            long version = c == null ? 0 : c.version();
            if (!merged && version <= applied) {
                return;
            }
            applied = version;
            LinkedHashMap<String, Serializable> values = new LinkedHashMap<>();
            if (c != null) {
                c.items().forEach((k, v) -> values.put(k, v.value()));
            }
            watcher.accept(values);
        }
    }
}
