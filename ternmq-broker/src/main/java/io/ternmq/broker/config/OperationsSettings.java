package io.ternmq.broker.config;

/**
 * What operators watch the broker through.
 *
 * @param sysIntervalSeconds seconds between {@code $SYS/broker/...} updates ({@code sys_interval}); 0: none
 * @param adminListener      the HTTP admin listener ({@code protocol http_api}), or null for none
 * @param shutdownTimeoutSeconds how long a stop on SIGTERM or SIGINT may take before the process exits anyway
 *                           ({@code shutdown_timeout})
 */
public record OperationsSettings(int sysIntervalSeconds, AdminListenerConfig adminListener,
                                 int shutdownTimeoutSeconds) {
    public static final int DEFAULT_SYS_INTERVAL = 10;
    public static final int DEFAULT_SHUTDOWN_TIMEOUT = 10;
}
