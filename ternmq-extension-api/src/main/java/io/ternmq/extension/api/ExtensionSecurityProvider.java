package io.ternmq.extension.api;

import java.util.Map;

/**
 * An authentication and authorization back end that an extension's jars carry: list the implementation's class name
 * in {@code META-INF/services/io.ternmq.extension.api.ExtensionSecurityProvider} of one of them. A listener uses it
 * when its configuration names it ({@code plugin <name>}), with its {@code plugin_opt_<key> <value>} lines as
 * options, as it uses the broker's own providers ({@code file}, {@code http}). Providers are found when the
 * extensions are loaded, before any of them starts; a provider needs nothing from {@link ExtensionMain}.
 * Implemented by extensions.
 *
 * @since 0.2
 */
public interface ExtensionSecurityProvider {
    /** The name a {@code plugin} line uses; unique among the broker's and the extensions' providers. @since 0.2 */
    String name();

    /**
     * Makes this provider's security for one listener that names it; called once per such listener, at start.
     *
     * @param listenerName the listener, as the broker names it in its log
     * @param options      its {@code plugin_opt_<key>} values, keys without the prefix
     * @throws IllegalArgumentException when the options are unusable: the broker does not start, and its message
     *                                  names the listener, the plugin and this exception's message
     * @since 0.2
     */
    ExtensionSecurity create(String listenerName, Map<String, String> options);
}
