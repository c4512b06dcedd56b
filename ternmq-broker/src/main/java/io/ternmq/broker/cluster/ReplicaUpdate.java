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
        boolean existed = v != null;
        if (v == null) {
            v = new ReplicaValue();
        }
        long before = v.session().epoch();
        boolean kept = v.session().apply(log);
        if (TRACE.isDebugEnabled() && (!kept || before != v.session().epoch())) {
            // where copies go: chaos runs find replicas missing with no partition lost
            TRACE.debug("replica of '{}' ({}): incarnation {} -> {}", entry.getKey(),
                    existed ? "present" : "absent", Long.toHexString(before),
                    kept ? Long.toHexString(v.session().epoch()) : "removed");
        }
        entry.setValue(kept ? v : null);
        return null;
    }

    /** Traced with {@code -Dternmq.orphans.log=DEBUG}, as the orphans are. */
    private static final org.slf4j.Logger TRACE = org.slf4j.LoggerFactory.getLogger(ReplicaUpdate.class);

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByteArray(log);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        log = in.readByteArray();
    }
}
