package io.ternmq.broker.security;

import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;

import java.util.Map;
import java.util.concurrent.Executor;

/**
 * What a {@link SecurityProvider} gets to build a listener's plugin.
 *
 * @param listener       the listener, with its {@code password_file}, {@code acl_file} and plugin options
 * @param watcher        calls back when files change, for reloading without a restart
 * @param blockingWork   a small pool for work that must not run on an event loop (password hashing, file reads)
 * @param metrics        the broker's counters
 * @param shared         loaded files and other things shared between listeners and plugins
 */
public record SecurityContext(ListenerConfig listener, FileWatcher watcher, Executor blockingWork, BrokerMetrics metrics, SharedResources shared) {

    /** The listener's {@code plugin_opt_<name>} settings, names without the prefix. */
    public Map<String, String> options() {
        return listener.auth().pluginOptions();
    }

    public String option(String name, String defaultValue) {
        return options().getOrDefault(name, defaultValue);
    }

    /** @throws ConfigException if the option is not set */
    public String requiredOption(String name) {
        String v = options().get(name);
        if (v == null || v.isBlank()) {
            throw new ConfigException("listener " + listener + ": plugin_opt_" + name + " is required");
        }
        return v;
    }

    /** @throws ConfigException if the option is set but not a whole number in range */
    public long longOption(String name, long defaultValue, long min, long max) {
        String v = options().get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException("listener " + listener + ": plugin_opt_" + name + ": '" + v
                    + "' is not a whole number in " + min + ".." + max);
        }
    }
}
