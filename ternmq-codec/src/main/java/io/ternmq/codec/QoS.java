package io.ternmq.codec;

/** Quality of service of a PUBLISH or a subscription. */
public enum QoS {
    AT_MOST_ONCE(0), AT_LEAST_ONCE(1), EXACTLY_ONCE(2);

    private static final QoS[] BY_VALUE = values();

    private final int value;

    QoS(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /** @throws IllegalArgumentException for anything but 0, 1 and 2 */
    public static QoS of(int value) {
        if (value < 0 || value > 2) {
            throw new IllegalArgumentException("QoS must be 0, 1 or 2, not " + value);
        }
        return BY_VALUE[value];
    }

    public static QoS min(QoS a, QoS b) {
        return a.value <= b.value ? a : b;
    }

    public static QoS max(QoS a, QoS b) {
        return a.value >= b.value ? a : b;
    }
}
