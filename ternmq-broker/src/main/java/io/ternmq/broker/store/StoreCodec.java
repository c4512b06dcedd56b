package io.ternmq.broker.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.QoS;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Binary forms of what the store keeps. A message is stored as an MQTT 5.0 PUBLISH packet (the codec already knows
 * every property) behind a small header; every record starts with a format version byte so that a future format can
 * read old data. Decoding failures are {@link StoreException}s naming the record.
 */
final class StoreCodec {
    private static final byte VERSION = 1;

    private StoreCodec() {
    }

    // ------------------------------------------------------------------ keys

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** "clientId NUL": a prefix no other client id shares, since client ids cannot contain U+0000. */
    static byte[] prefix(String owner) {
        byte[] id = utf8(owner);
        byte[] k = new byte[id.length + 1];
        System.arraycopy(id, 0, k, 0, id.length);
        return k;
    }

    static byte[] key(String owner, long seq) {
        byte[] p = prefix(owner);
        return ByteBuffer.allocate(p.length + 8).put(p).putLong(seq).array();
    }

    static byte[] key(String owner, String name) {
        byte[] p = prefix(owner);
        byte[] n = utf8(name);
        return ByteBuffer.allocate(p.length + n.length).put(p).put(n).array();
    }

    static byte[] key(String owner, int packetId) {
        byte[] p = prefix(owner);
        return ByteBuffer.allocate(p.length + 2).put(p).putShort((short) packetId).array();
    }

    static byte[] id(long id) {
        return ByteBuffer.allocate(8).putLong(id).array();
    }

    static long id(byte[] key) {
        return ByteBuffer.wrap(key).getLong();
    }

    /** The part of a key after "owner NUL". */
    static byte[] suffix(byte[] key, int ownerPrefixLength) {
        byte[] s = new byte[key.length - ownerPrefixLength];
        System.arraycopy(key, ownerPrefixLength, s, 0, s.length);
        return s;
    }

    /** The {@link StoreOwner} (client id NUL epoch) of a key "owner NUL suffix". */
    static String storeOwner(byte[] key) {
        int first = indexOf(key, 0);
        int second = first < 0 ? -1 : indexOf(key, first + 1);
        if (second < 0) {
            throw new StoreException("key without owner and epoch");
        }
        return new String(key, 0, second, StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] key, int from) {
        for (int i = from; i < key.length; i++) {
            if (key[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    /** The owner (shared group) of a key "owner NUL suffix". */
    static String owner(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] == 0) {
                return new String(key, 0, i, StandardCharsets.UTF_8);
            }
        }
        throw new StoreException("key without owner separator");
    }

    static long seqOf(byte[] key) {
        return ByteBuffer.wrap(key, key.length - 8, 8).getLong();
    }

    static int packetIdOf(byte[] key) {
        return ByteBuffer.wrap(key, key.length - 2, 2).getShort() & 0xFFFF;
    }

    // ------------------------------------------------------------------ messages

    static byte[] message(Message m) {
        // room for the usual message at once (a buffer grown on the way is copied): fixed fields, publisher and
        // topic at up to 3 bytes a char, a few properties, the payload
        int publisher = m.publisherId() == null ? 0 : m.publisherId().length();
        ByteBuf b = ByteBufAllocator.DEFAULT.heapBuffer(96 + 3 * (publisher + m.topic().length())
                + m.payload().length);
        try {
            MessageCodec.write(m, b);
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    static Message message(byte[] bytes) {
        try {
            return MessageCodec.read(Unpooled.wrappedBuffer(bytes));
        } catch (MalformedPacketException e) {
            throw new StoreException("unreadable stored message: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ subscriptions, entries, sessions

    static byte[] subscription(Subscription s) {
        byte[] filter = utf8(s.filter());
        return ByteBuffer.allocate(1 + 4 + filter.length + 4 + 4).put(VERSION).putInt(filter.length).put(filter)
                .put((byte) s.qos().value()).put((byte) ((s.noLocal() ? 1 : 0) | (s.retainAsPublished() ? 2 : 0)))
                .put((byte) s.retainHandling()).put((byte) 0).putInt(s.subscriptionId()).array();
    }

    static Subscription subscription(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        checkVersion(b, "subscription");
        String filter = readString(b);
        QoS qos = QoS.of(b.get());
        int flags = b.get();
        int retainHandling = b.get();
        b.get();
        return new Subscription(filter, qos, (flags & 1) != 0, (flags & 2) != 0, retainHandling, b.getInt());
    }

    static byte[] entry(QueueEntry e) {
        byte[] group = utf8(e.sharedGroup());
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 3 + 4 + 4 * e.subscriptionIds().length + 4 + group.length + 4);
        b.put(VERSION).putLong(e.messageId()).put((byte) e.qos().value()).put((byte) (e.retain() ? 1 : 0))
                .put((byte) (e.released() ? 1 : 0)).putInt(e.subscriptionIds().length);
        for (int id : e.subscriptionIds()) {
            b.putInt(id);
        }
        return b.putInt(group.length).put(group).putInt(e.payloadBytes()).array();
    }

    static QueueEntry entry(long seq, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        checkVersion(b, "queue entry");
        long messageId = b.getLong();
        QoS qos = QoS.of(b.get());
        boolean retain = b.get() != 0;
        boolean released = b.get() != 0;
        int[] ids = new int[b.getInt()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = b.getInt();
        }
        String group = readString(b);
        return new QueueEntry(seq, messageId, qos, retain, ids, group, released, b.getInt());
    }

    static byte[] session(SessionRecord s) {
        byte[] will = s.will() == null ? new byte[0] : message(s.will());
        return ByteBuffer.allocate(1 + 8 + 1 + 8 + 8 + 8 + 4 + will.length).put(VERSION).putLong(s.epoch())
                .put((byte) s.protocolLevel()).putLong(s.expiryInterval()).putLong(s.disconnectedAtMillis()).putLong(s.willDelaySeconds())
                .putInt(will.length).put(will).array();
    }

    static SessionRecord session(String clientId, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        checkVersion(b, "session");
        long epoch = b.getLong();
        int level = b.get();
        long expiry = b.getLong();
        long disconnectedAt = b.getLong();
        long willDelay = b.getLong();
        byte[] will = new byte[b.getInt()];
        b.get(will);
        return new SessionRecord(clientId, epoch, level, expiry, disconnectedAt,
                will.length == 0 ? null : message(will), willDelay);
    }

    private static void checkVersion(ByteBuffer b, String what) {
        byte v = b.get();
        if (v != VERSION) {
            throw new StoreException(what + " record has format version " + v + ", this broker reads " + VERSION);
        }
    }

    private static String readString(ByteBuffer b) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }
}
