package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Who may connect to a listener and what they may do there.
 *
 * @param allowAnonymous whether clients without a user name are accepted; null means Mosquitto 2's default: yes
 *                       when the configuration defines no listener (loopback-only mode), no otherwise
 *                       (see {@link BrokerConfig#allowAnonymous(ListenerConfig)})
 * @param passwordFile   {@code password_file}, or null
 * @param aclFile        {@code acl_file}, or null
 * @param plugins        {@code plugin} names: authentication/authorization providers found through ServiceLoader
 * @param pluginOptions  {@code plugin_opt_<name> <value>} settings, name without the prefix
 */
public record AuthSettings(Boolean allowAnonymous, Path passwordFile, Path aclFile, List<String> plugins,
                           Map<String, String> pluginOptions) {

    public static final AuthSettings DEFAULT = new AuthSettings(null, null, null, List.of(), Map.of());

    public AuthSettings {
        plugins = List.copyOf(plugins);
        pluginOptions = Map.copyOf(pluginOptions);
    }
}
