package io.ternmq.broker.config;

import java.nio.file.Path;

/**
 * Where extensions live and how their calls are watched (docs/extensions.md).
 *
 * @param dir            {@code extensions_dir}: one folder per extension; a missing directory means none
 * @param slowCallMillis {@code extension_slow_call_ms}: an interceptor or listener call longer than this is counted
 *                       as slow for its extension
 */
public record ExtensionSettings(Path dir, int slowCallMillis) {
}
