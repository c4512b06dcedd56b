package io.ternmq.broker.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import io.ternmq.broker.store.ReplicatedSession;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * A value of the session replica map: one client's {@link ReplicatedSession}. Kept as an object (the map's in-memory
 * format is OBJECT), so that applying a group's writes ({@link ReplicaUpdate}) changes it in place; serialized only
 * when it migrates to another member or is read.
 */
public final class ReplicaValue implements DataSerializable {
    private ReplicatedSession session;

    /** For Hazelcast's deserialization. */
    public ReplicaValue() {
        this.session = new ReplicatedSession();
    }

    ReplicatedSession session() {
        return session;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream d = new DataOutputStream(b)) {
            session.write(d);
        }
        out.writeByteArray(b.toByteArray());
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        try (DataInputStream d = new DataInputStream(new ByteArrayInputStream(in.readByteArray()))) {
            session = ReplicatedSession.read(d);
        }
    }
}
