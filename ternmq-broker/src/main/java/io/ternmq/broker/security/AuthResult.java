package io.ternmq.broker.security;

import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.ReasonCode;

/** The outcome of authentication, and the CONNACK code each version answers with. */
public enum AuthResult {
    ACCEPTED(ReasonCode.V3_ACCEPTED, ReasonCode.SUCCESS),
    BAD_USER_NAME_OR_PASSWORD(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD, ReasonCode.BAD_USER_NAME_OR_PASSWORD),
    NOT_AUTHORIZED(ReasonCode.V3_NOT_AUTHORIZED, ReasonCode.NOT_AUTHORIZED),
    /** The authentication backend could not answer. */
    SERVER_UNAVAILABLE(ReasonCode.V3_SERVER_UNAVAILABLE, ReasonCode.SERVER_UNAVAILABLE);

    private final int v3Code;
    private final int v5Code;

    AuthResult(int v3Code, int v5Code) {
        this.v3Code = v3Code;
        this.v5Code = v5Code;
    }

    public int connackCode(MqttVersion version) {
        return version.isV5() ? v5Code : v3Code;
    }
}
