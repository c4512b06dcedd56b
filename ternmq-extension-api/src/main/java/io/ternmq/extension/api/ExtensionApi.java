package io.ternmq.extension.api;

/**
 * The version of this API, which {@code api_version} in {@code ternmq-extension.properties} is compared with: an
 * extension asking for a newer one than the broker's is refused.
 *
 * @since 0.1
 */
public interface ExtensionApi {
    /** {@code major.minor}; a minor version only adds (0.2: {@code SubscribeInboundOutput.async}). @since 0.1 */
    String VERSION = "0.2";
}
