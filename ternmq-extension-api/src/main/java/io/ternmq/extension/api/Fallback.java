package io.ternmq.extension.api;

/**
 * What happens to a decision moved elsewhere with {@code output.async(...)} if it does not come within its timeout,
 * or if the interceptor throws: go on as if the interceptor had changed nothing, or refuse with a reason code (a
 * CONNACK code for CONNECT, a PUBACK/PUBREC code for PUBLISH). A value type.
 *
 * @param proceed    true: go on unchanged; false: refuse with {@code reasonCode}
 * @param reasonCode the MQTT 5 reason code of a refusal (0x80 and above); ignored when proceeding
 * @since 0.1
 */
public record Fallback(boolean proceed, int reasonCode) {
    /** Go on unchanged. @since 0.1 */
    public static Fallback proceedUnchanged() {
        return new Fallback(true, 0);
    }

    /** Refuse with an MQTT 5 reason code of 0x80 or above. @since 0.1 */
    public static Fallback refuse(int reasonCode) {
        if (reasonCode < 0x80 || reasonCode > 0xFF) {
            throw new IllegalArgumentException("a refusal's reason code is 0x80..0xFF, not 0x"
                    + Integer.toHexString(reasonCode));
        }
        return new Fallback(false, reasonCode);
    }
}
