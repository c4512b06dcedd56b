package io.ternmq.broker.cluster;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;

import java.io.IOException;
import java.util.Map;

/**
 * One group's writes of one client's session, applied to its replica on the key's owner and, as its own backup
 * processor, on each backup. Idempotent, so Hazelcast (or the sender) may retry it.
 */
public final class ReplicaUpdate implements EntryProcessor<String, ReplicaValue, Object>, DataSerializable {
    private byte[] log;

    /** For Hazelcast's deserialization. */
    public ReplicaUpdate() {
    }

    ReplicaUpdate(byte[] log) {
        this.log = log;
    }

    @Override
    public Object process(Map.Entry<String, ReplicaValue> entry) {
        ReplicaValue v = entry.getValue();
        if (v == null) {
            v = new ReplicaValue();
        }
        if (v.session().apply(log)) {
            entry.setValue(v);
        } else {
            entry.setValue(null);
        }
        return null;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByteArray(log);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        log = in.readByteArray();
    }
}
