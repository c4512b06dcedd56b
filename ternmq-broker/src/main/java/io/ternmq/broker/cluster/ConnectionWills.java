package io.ternmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.codec.MalformedPacketException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The wills of connected clients whose session ends with their connection (MQTT 5 Session Expiry 0, 3.x clean
 * session), which no session replica holds: a Hazelcast map from client id to the node the client is connected to,
 * the claim generation of its CONNECT and the will, with {@code cluster.backup_count} backups. Written before the
 * CONNACK, removed when the session ends on its node; when a node dies, exactly one survivor takes each of its
 * clients' wills ({@link #take}, an entry processor) and publishes it.
 */
final class ConnectionWills {
    static final String MAP = "ternmq.wills";

    private final IMap<String, byte[]> map;

    ConnectionWills(HazelcastInstance hazelcast) {
        this.map = hazelcast.getMap(MAP);
    }

    CompletionStage<Void> record(String clientId, String node, long generation, Message will) {
        ByteBuf b = Unpooled.buffer();
        MessageCodec.write(will, b);
        byte[] message = ByteBufUtil.getBytes(b);
        byte[] nodeBytes = node.getBytes(StandardCharsets.UTF_8);
        byte[] value = ByteBuffer.allocate(8 + 4 + nodeBytes.length + message.length).putLong(generation)
                .putInt(nodeBytes.length).put(nodeBytes).put(message).array();
        return map.setAsync(clientId, value);
    }

    /** The session of {@code clientId} (claimed at {@code generation} or earlier) ended on {@code node}. */
    void release(String clientId, String node, long generation) {
        map.submitToKey(clientId, new Release(node, generation));
    }

    /** The client ids whose wills {@code node} holds. Blocks: never on an event loop. */
    Set<String> heldBy(String node) {
        return map.keySet(new HeldBy(node));
    }

    /** Takes the will of {@code clientId} if {@code dead} still holds it: of every node trying, one gets it. */
    CompletionStage<Message> take(String clientId, String dead) {
        return map.submitToKey(clientId, new Take(dead)).thenApply(bytes -> {
            if (bytes == null) {
                return null;
            }
            try {
                return MessageCodec.read(Unpooled.wrappedBuffer(bytes));
            } catch (MalformedPacketException e) {
                throw new IllegalStateException("unreadable will of client " + clientId, e);
            }
        });
    }

    private static String nodeOf(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        b.getLong();
        byte[] n = new byte[b.getInt()];
        b.get(n);
        return new String(n, StandardCharsets.UTF_8);
    }

    private static long generationOf(byte[] v) {
        return ByteBuffer.wrap(v).getLong();
    }

    private static byte[] message(byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        b.getLong();
        int nodeLength = b.getInt();
        b.position(b.position() + nodeLength);
        byte[] m = new byte[b.remaining()];
        b.get(m);
        return m;
    }

    private record Release(String node, long generation) implements EntryProcessor<String, byte[], Object> {
        @Override
        public Object process(Map.Entry<String, byte[]> e) {
            byte[] v = e.getValue();
            if (v != null && nodeOf(v).equals(node) && generationOf(v) <= generation) {
                e.setValue(null);
            }
            return null;
        }
    }

    private record Take(String dead) implements EntryProcessor<String, byte[], byte[]> {
        @Override
        public byte[] process(Map.Entry<String, byte[]> e) {
            byte[] v = e.getValue();
            if (v == null || !nodeOf(v).equals(dead)) {
                return null;
            }
            e.setValue(null);
            return message(v);
        }
    }

    private record HeldBy(String node) implements com.hazelcast.query.Predicate<String, byte[]> {
        @Override
        public boolean apply(Map.Entry<String, byte[]> e) {
            return e.getValue() != null && nodeOf(e.getValue()).equals(node);
        }
    }
}
