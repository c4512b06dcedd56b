package io.ternmq.broker.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What the broker does with topics besides routing them: Sparkplug B awareness, delayed publish, topic rewriting and
 * subscriptions made for clients on connect (docs/sparkplug.md, docs/topics.md).
 *
 * @param sparkplugAware           {@code sparkplug_aware}: NBIRTH/DBIRTH are also kept, retained, under
 *                                 {@code $sparkplug/certificates/}, which clients may not publish to
 * @param sparkplugNdeathTimestamp {@code sparkplug_ndeath_timestamp}: an NDEATH will gets the time it is published
 * @param delayedPublish           {@code delayed_publish}: {@code $delayed/<seconds>/<topic>} is released later
 * @param maxDelayedMessages       {@code max_delayed_messages}: how many may wait at once
 * @param rewrites                 {@code topic_rewrite} rules, in file order
 * @param autoSubscriptions        {@code auto_subscribe} entries, in file order
 */
public record TopicFeatures(boolean sparkplugAware, boolean sparkplugNdeathTimestamp, boolean delayedPublish,
                            int maxDelayedMessages, List<RewriteRule> rewrites,
                            List<AutoSubscription> autoSubscriptions) {

    public static final int DEFAULT_MAX_DELAYED_MESSAGES = 100_000;

    public TopicFeatures {
        rewrites = List.copyOf(rewrites);
        autoSubscriptions = List.copyOf(autoSubscriptions);
    }

    /** What a rewrite rule applies to. */
    public enum RewriteScope {
        PUBLISH, SUBSCRIBE, ALL;

        public boolean publish() {
            return this != SUBSCRIBE;
        }

        public boolean subscribe() {
            return this != PUBLISH;
        }
    }

    /**
     * {@code topic_rewrite <scope> <filter> <regex> <replacement>}: a topic (or filter) the filter matches and the
     * regular expression finds is replaced by {@code replacement}, in which {@code $1}..{@code $9} stand for the
     * expression's groups.
     */
    public record RewriteRule(RewriteScope scope, String filter, Pattern regex, String replacement) {
    }

    /** {@code auto_subscribe <filter> [qos]}; the filter may hold {@code %c} (client id) and {@code %u} (user name). */
    public record AutoSubscription(String filter, int qos) {
    }
}
