package io.ternmq.broker.protocol;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ConnectionLimit;
import io.ternmq.broker.security.EnhancedAuthenticator;

import io.ternmq.broker.service.BrokerService;

import java.util.Map;

/**
 * The collaborators every connection needs, wired once at start. One per listener: the authenticator, enhanced
 * authentication methods and authorizer are the listener's; the rest is shared by all.
 */
public record BrokerContext(BrokerConfig config, BrokerService service, BrokerMetrics metrics,
                            Authenticator authenticator, Map<String, EnhancedAuthenticator> enhancedAuthenticators,
                            ConnectionLimit connectionLimit, Authorizer authorizer) {
}
