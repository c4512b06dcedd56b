package io.ternmq.extension.api;

/**
 * MQTT 5 reason codes an extension commonly answers with. Any other code the packet allows may be used as well; the
 * broker translates for MQTT 3.x clients (docs/extensions.md).
 *
 * @since 0.1
 */
public interface ReasonCodes {
    /** @since 0.1 */
    int SUCCESS = 0x00;
    /** @since 0.1 */
    int UNSPECIFIED_ERROR = 0x80;
    /** @since 0.1 */
    int IMPLEMENTATION_SPECIFIC_ERROR = 0x83;
    /** @since 0.1 */
    int CLIENT_IDENTIFIER_NOT_VALID = 0x85;
    /** @since 0.1 */
    int BAD_USER_NAME_OR_PASSWORD = 0x86;
    /** @since 0.1 */
    int NOT_AUTHORIZED = 0x87;
    /** @since 0.1 */
    int SERVER_UNAVAILABLE = 0x88;
    /** @since 0.1 */
    int SERVER_BUSY = 0x89;
    /** @since 0.1 */
    int BANNED = 0x8A;
    /** @since 0.1 */
    int TOPIC_NAME_INVALID = 0x90;
    /** @since 0.1 */
    int QUOTA_EXCEEDED = 0x97;
    /** @since 0.1 */
    int PAYLOAD_FORMAT_INVALID = 0x99;
    /** CONNACK or DISCONNECT with a Server Reference: temporarily elsewhere. @since 0.1 */
    int USE_ANOTHER_SERVER = 0x9C;
    /** CONNACK or DISCONNECT with a Server Reference: permanently elsewhere. @since 0.1 */
    int SERVER_MOVED = 0x9D;
}
