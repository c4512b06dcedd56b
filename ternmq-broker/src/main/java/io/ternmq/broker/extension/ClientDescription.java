package io.ternmq.broker.extension;

import io.ternmq.extension.api.ClientInfo;

/** A connection as extensions see it; made once per connection, when the first extension call needs it. */
public record ClientDescription(String clientId, String username, int protocolLevel, String remoteAddress,
                                String listenerName) implements ClientInfo {
}
