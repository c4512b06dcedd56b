package io.ternmq.codec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * The MQTT 5.0 properties of one packet, immutable. MQTT 3.x packets carry {@link #EMPTY}. Single-valued properties
 * are held by identifier; user properties keep their order; a PUBLISH may carry several subscription identifiers.
 */
public final class MqttProperties {

    public static final MqttProperties EMPTY = new MqttProperties(new Object[PropertyId.MAX_ID + 1], List.of(), new int[0]);

    private final Object[] values;
    private final List<UserProperty> userProperties;
    private final int[] subscriptionIdentifiers;
    /** Known at construction: asked of every message several times (bridges, outbound flows). */
    private final boolean empty;

    private MqttProperties(Object[] values, List<UserProperty> userProperties, int[] subscriptionIdentifiers) {
        this.values = values;
        this.userProperties = userProperties;
        this.subscriptionIdentifiers = subscriptionIdentifiers;
        this.empty = computeEmpty();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * These properties with one more user property at the end. Cheaper than {@link #toBuilder()}: the single-valued
     * properties and subscription identifiers are shared (neither is ever changed once built), only the user
     * properties are copied. For what is done to every message (a bridge's origin id and hop count).
     */
    public MqttProperties withUserProperty(String name, String value) {
        UserProperty[] ups = userProperties.toArray(new UserProperty[userProperties.size() + 1]);
        ups[ups.length - 1] = new UserProperty(name, value);
        return new MqttProperties(values, List.of(ups), subscriptionIdentifiers);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        System.arraycopy(values, 0, b.values, 0, values.length);
        b.userProperties.addAll(userProperties);
        for (int id : subscriptionIdentifiers) {
            b.subscriptionIdentifiers.add(id);
        }
        return b;
    }

    public boolean isEmpty() {
        return empty;
    }

    private boolean computeEmpty() {
        if (!userProperties.isEmpty() || subscriptionIdentifiers.length > 0) {
            return false;
        }
        for (Object v : values) {
            if (v != null) {
                return false;
            }
        }
        return true;
    }

    public boolean contains(PropertyId id) {
        return switch (id) {
            case USER_PROPERTY -> !userProperties.isEmpty();
            case SUBSCRIPTION_IDENTIFIER -> subscriptionIdentifiers.length > 0;
            default -> values[id.id()] != null;
        };
    }

    /** @return the value (Integer, Long, String or byte[] per {@link PropertyId#valueType()}) or null if absent */
    public Object get(PropertyId id) {
        return values[id.id()];
    }

    /** @return a BYTE, TWO_BYTE_INT or VARIABLE_BYTE_INT property, or null if absent */
    public Integer getInt(PropertyId id) {
        return (Integer) values[id.id()];
    }

    /** @return a FOUR_BYTE_INT property (unsigned, so held in a long), or null if absent */
    public Long getLong(PropertyId id) {
        return (Long) values[id.id()];
    }

    public String getString(PropertyId id) {
        return (String) values[id.id()];
    }

    public byte[] getBinary(PropertyId id) {
        return (byte[]) values[id.id()];
    }

    public List<UserProperty> userProperties() {
        return userProperties;
    }

    /** @return a copy of the subscription identifiers, in order */
    public int[] subscriptionIdentifiers() {
        return subscriptionIdentifiers.clone();
    }

    public int subscriptionIdentifierCount() {
        return subscriptionIdentifiers.length;
    }

    public int subscriptionIdentifier(int index) {
        return subscriptionIdentifiers[index];
    }

    /**
     * Visits every single-valued property in identifier order (user properties and subscription identifiers are
     * read through their own accessors).
     */
    public void forEachSingle(BiConsumer<PropertyId, Object> visitor) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                visitor.accept(PropertyId.of(i), values[i]);
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof MqttProperties other)) {
            return false;
        }
        if (!userProperties.equals(other.userProperties)
                || !Arrays.equals(subscriptionIdentifiers, other.subscriptionIdentifiers)) {
            return false;
        }
        for (int i = 0; i < values.length; i++) {
            if (!Objects.deepEquals(values[i], other.values[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = userProperties.hashCode() * 31 + Arrays.hashCode(subscriptionIdentifiers);
        return h * 31 + Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        forEachSingle((id, v) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(id).append('=').append(v instanceof byte[] b ? b.length + " bytes" : v);
        });
        for (UserProperty up : userProperties) {
            sb.append(sb.length() > 1 ? ", " : "").append(up.name()).append(':').append(up.value());
        }
        if (subscriptionIdentifiers.length > 0) {
            sb.append(sb.length() > 1 ? ", " : "").append("SUBSCRIPTION_IDENTIFIER=")
                    .append(Arrays.toString(subscriptionIdentifiers));
        }
        return sb.append('}').toString();
    }

    /** Collects properties; {@link #build()} checks nothing the decoder has not already checked. */
    public static final class Builder {
        private final Object[] values = new Object[PropertyId.MAX_ID + 1];
        private final List<UserProperty> userProperties = new ArrayList<>();
        private final List<Integer> subscriptionIdentifiers = new ArrayList<>();

        private Builder() {
        }

        /**
         * Sets a single-valued property, replacing any earlier value; null removes it.
         *
         * @throws IllegalArgumentException if the value's Java type does not fit the property's wire type
         */
        public Builder set(PropertyId id, Object value) {
            if (id == PropertyId.USER_PROPERTY || id == PropertyId.SUBSCRIPTION_IDENTIFIER) {
                throw new IllegalArgumentException(id + " is multi-valued; use its own builder method");
            }
            if (value != null) {
                boolean fits = switch (id.valueType()) {
                    case BYTE, TWO_BYTE_INT, VARIABLE_BYTE_INT -> value instanceof Integer;
                    case FOUR_BYTE_INT -> value instanceof Long;
                    case UTF8 -> value instanceof String;
                    case BINARY -> value instanceof byte[];
                    case UTF8_PAIR -> false;
                };
                if (!fits) {
                    throw new IllegalArgumentException(id + " cannot hold a " + value.getClass().getSimpleName());
                }
            }
            values[id.id()] = value;
            return this;
        }

        public boolean contains(PropertyId id) {
            return switch (id) {
                case USER_PROPERTY -> !userProperties.isEmpty();
                case SUBSCRIPTION_IDENTIFIER -> !subscriptionIdentifiers.isEmpty();
                default -> values[id.id()] != null;
            };
        }

        public Builder userProperty(String name, String value) {
            userProperties.add(new UserProperty(name, value));
            return this;
        }

        public Builder userProperties(List<UserProperty> properties) {
            userProperties.addAll(properties);
            return this;
        }

        public Builder clearUserProperties() {
            userProperties.clear();
            return this;
        }

        public Builder subscriptionIdentifier(int id) {
            subscriptionIdentifiers.add(id);
            return this;
        }

        public Builder clearSubscriptionIdentifiers() {
            subscriptionIdentifiers.clear();
            return this;
        }

        public MqttProperties build() {
            boolean anything = !userProperties.isEmpty() || !subscriptionIdentifiers.isEmpty();
            for (Object v : values) {
                anything |= v != null;
            }
            if (!anything) {
                return EMPTY;
            }
            int[] ids = new int[subscriptionIdentifiers.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = subscriptionIdentifiers.get(i);
            }
            List<UserProperty> ups = userProperties.isEmpty() ? List.of()
                    : Collections.unmodifiableList(new ArrayList<>(userProperties));
            return new MqttProperties(values.clone(), ups, ids);
        }
    }
}
