package io.ternmq.broker.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;

/**
 * When two halves of a split cluster merge, a topic's retained value with the higher version wins (Hazelcast's
 * default, put-if-absent, would keep the larger half's whatever its version), so that the map ends where the nodes'
 * indexes do: each node applies the higher version too. Public with a no-argument constructor: Hazelcast creates it
 * by its class name.
 */
public final class RetainedMergePolicy implements SplitBrainMergePolicy<byte[], MergingValue<byte[]>, Object> {

    @Override
    public Object merge(MergingValue<byte[]> merging, MergingValue<byte[]> existing) {
        if (existing == null) {
            return merging.getRawValue();
        }
        byte[] m = merging.getDeserializedValue();
        byte[] e = existing.getDeserializedValue();
        if (e == null || (m != null && RetainedMap.version(m) > RetainedMap.version(e))) {
            return merging.getRawValue();
        }
        return existing.getRawValue();
    }

    @Override
    public void writeData(ObjectDataOutput out) {
        // no state
    }

    @Override
    public void readData(ObjectDataInput in) {
        // no state
    }
}
