package io.ternmq.broker.testing;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.OneofDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;

import java.util.List;

/**
 * Sparkplug B payloads, encoded and decoded with protobuf-java from the specification's schema
 * ({@code sparkplug_b.proto}, Sparkplug 3.0, chapter 6: {@code org.eclipse.tahu.protobuf.Payload} and its
 * {@code Metric}), declared here as a descriptor because protoc is not part of the build. The fields are the
 * schema's, with its numbers and types; the nested DataSet, Template, PropertySet and MetaData types are left out,
 * which protobuf allows (their fields, if present on the wire, are kept as unknown fields).
 */
public final class SparkplugB {
    /** Sparkplug B data types (the schema's DataType enum) used by the tests. */
    public static final int INT64 = 4;
    public static final int UINT64 = 8;
    public static final int DOUBLE = 10;
    public static final int BOOLEAN = 11;
    public static final int STRING = 12;

    public static final Descriptors.Descriptor PAYLOAD;
    public static final Descriptors.Descriptor METRIC;

    static {
        DescriptorProto metric = DescriptorProto.newBuilder().setName("Metric")
                .addField(optional("name", 1, Type.TYPE_STRING))
                .addField(optional("alias", 2, Type.TYPE_UINT64))
                .addField(optional("timestamp", 3, Type.TYPE_UINT64))
                .addField(optional("datatype", 4, Type.TYPE_UINT32))
                .addField(optional("is_historical", 5, Type.TYPE_BOOL))
                .addField(optional("is_transient", 6, Type.TYPE_BOOL))
                .addField(optional("is_null", 7, Type.TYPE_BOOL))
                .addOneofDecl(OneofDescriptorProto.newBuilder().setName("value"))
                .addField(oneof("int_value", 10, Type.TYPE_UINT32))
                .addField(oneof("long_value", 11, Type.TYPE_UINT64))
                .addField(oneof("float_value", 12, Type.TYPE_FLOAT))
                .addField(oneof("double_value", 13, Type.TYPE_DOUBLE))
                .addField(oneof("boolean_value", 14, Type.TYPE_BOOL))
                .addField(oneof("string_value", 15, Type.TYPE_STRING))
                .addField(oneof("bytes_value", 16, Type.TYPE_BYTES))
                .build();
        DescriptorProto payload = DescriptorProto.newBuilder().setName("Payload")
                .addField(optional("timestamp", 1, Type.TYPE_UINT64))
                .addField(FieldDescriptorProto.newBuilder().setName("metrics").setNumber(2)
                        .setLabel(Label.LABEL_REPEATED).setType(Type.TYPE_MESSAGE)
                        .setTypeName(".org.eclipse.tahu.protobuf.Payload.Metric"))
                .addField(optional("seq", 3, Type.TYPE_UINT64))
                .addField(optional("uuid", 4, Type.TYPE_STRING))
                .addField(optional("body", 5, Type.TYPE_BYTES))
                .addNestedType(metric)
                .build();
        FileDescriptorProto file = FileDescriptorProto.newBuilder().setName("sparkplug_b.proto")
                .setPackage("org.eclipse.tahu.protobuf").setSyntax("proto2").addMessageType(payload).build();
        try {
            Descriptors.FileDescriptor fd = Descriptors.FileDescriptor.buildFrom(file,
                    new Descriptors.FileDescriptor[0]);
            PAYLOAD = fd.findMessageTypeByName("Payload");
            METRIC = PAYLOAD.findNestedTypeByName("Metric");
        } catch (Descriptors.DescriptorValidationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private SparkplugB() {
    }

    private static FieldDescriptorProto.Builder optional(String name, int number, Type type) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setLabel(Label.LABEL_OPTIONAL)
                .setType(type);
    }

    private static FieldDescriptorProto.Builder oneof(String name, int number, Type type) {
        return optional(name, number, type).setOneofIndex(0);
    }

    /** A metric with a name, alias, timestamp, datatype and value (Long, Double, Boolean or String). */
    public static DynamicMessage metric(String name, long alias, long timestamp, int datatype, Object value) {
        DynamicMessage.Builder m = DynamicMessage.newBuilder(METRIC).setField(field(METRIC, "name"), name)
                .setField(field(METRIC, "alias"), alias).setField(field(METRIC, "timestamp"), timestamp)
                .setField(field(METRIC, "datatype"), datatype);
        String valueField;
        if (value instanceof Long) {
            valueField = "long_value";
        } else if (value instanceof Double) {
            valueField = "double_value";
        } else if (value instanceof Boolean) {
            valueField = "boolean_value";
        } else if (value instanceof String) {
            valueField = "string_value";
        } else {
            throw new IllegalArgumentException(value.getClass().toString());
        }
        return m.setField(field(METRIC, valueField), value).build();
    }

    /** A payload; {@code timestamp} or {@code seq} null leaves the field out. */
    public static DynamicMessage payload(Long timestamp, Long seq, List<DynamicMessage> metrics) {
        DynamicMessage.Builder p = DynamicMessage.newBuilder(PAYLOAD);
        if (timestamp != null) {
            p.setField(field(PAYLOAD, "timestamp"), timestamp);
        }
        if (seq != null) {
            p.setField(field(PAYLOAD, "seq"), seq);
        }
        for (DynamicMessage m : metrics) {
            p.addRepeatedField(field(PAYLOAD, "metrics"), m);
        }
        return p.build();
    }

    /** An NBIRTH: seq 0, bdSeq, Node Control/Rebirth false and one process value. */
    public static byte[] nbirth(long timestamp, long bdSeq, double temperature) {
        return payload(timestamp, 0L, List.of(metric("bdSeq", 0, timestamp, UINT64, bdSeq),
                metric("Node Control/Rebirth", 1, timestamp, BOOLEAN, false),
                metric("Temperature", 2, timestamp, DOUBLE, temperature))).toByteArray();
    }

    /** A DBIRTH of a device with one metric. */
    public static byte[] dbirth(long timestamp, long seq, String metricName, String value) {
        return payload(timestamp, seq, List.of(metric(metricName, 10, timestamp, STRING, value))).toByteArray();
    }

    /** An NDEATH: the bdSeq metric only, no seq; {@code timestamp} null leaves the payload's timestamp out. */
    public static byte[] ndeath(Long timestamp, long bdSeq) {
        DynamicMessage bd = DynamicMessage.newBuilder(METRIC).setField(field(METRIC, "name"), "bdSeq")
                .setField(field(METRIC, "datatype"), UINT64).setField(field(METRIC, "long_value"), bdSeq).build();
        return payload(timestamp, null, List.of(bd)).toByteArray();
    }

    public static DynamicMessage parse(byte[] bytes) {
        try {
            return DynamicMessage.parseFrom(PAYLOAD, bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("not a Sparkplug B payload: " + e.getMessage(), e);
        }
    }

    public static boolean hasTimestamp(DynamicMessage payload) {
        return payload.hasField(field(PAYLOAD, "timestamp"));
    }

    public static long timestamp(DynamicMessage payload) {
        return (Long) payload.getField(field(PAYLOAD, "timestamp"));
    }

    /** The payload without its timestamp: what must stay unchanged when the broker sets it. */
    public static DynamicMessage withoutTimestamp(DynamicMessage payload) {
        return payload.toBuilder().clearField(field(PAYLOAD, "timestamp")).build();
    }

    public static Descriptors.FieldDescriptor field(Descriptors.Descriptor type, String name) {
        return type.findFieldByName(name);
    }
}
