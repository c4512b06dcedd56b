package io.ternmq.broker.config;

/**
 * What operators watch the broker through.
 *
 * @param sysIntervalSeconds seconds between {@code $SYS/broker/...} updates ({@code sys_interval}); 0: none
 * @param adminListener      the HTTP admin listener ({@code protocol http_api}), or null for none
 */
public record OperationsSettings(int sysIntervalSeconds, AdminListenerConfig adminListener) {
    public static final int DEFAULT_SYS_INTERVAL = 10;
}
