package io.ternmq.broker.security;

import io.ternmq.codec.ReasonCode;

/**
 * The server's next step in an enhanced authentication exchange: a challenge (sent in AUTH 0x18), success (CONNACK 0
 * or AUTH 0x00, with optional final data), or failure with the reason code to send (CONNACK or DISCONNECT).
 */
public record AuthStep(Outcome outcome, byte[] data, int reasonCode) {

    /** What the step does. */
    public enum Outcome { CONTINUE, SUCCESS, FAILURE }

    public static AuthStep challenge(byte[] data) {
        return new AuthStep(Outcome.CONTINUE, data, ReasonCode.CONTINUE_AUTHENTICATION);
    }

    public static AuthStep success(byte[] data) {
        return new AuthStep(Outcome.SUCCESS, data, ReasonCode.SUCCESS);
    }

    /** @param reasonCode e.g. 0x86 bad user name or password, 0x87 not authorized */
    public static AuthStep failure(int reasonCode) {
        return new AuthStep(Outcome.FAILURE, null, reasonCode);
    }
}
