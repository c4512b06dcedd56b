package io.ternmq.broker.routing;

import io.ternmq.broker.config.TopicFeatures;
import io.ternmq.codec.TopicSyntax;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * The {@code topic_rewrite} rules of one direction (PUBLISH topics, or SUBSCRIBE/UNSUBSCRIBE filters), compiled
 * once. The first rule in file order whose filter matches and whose expression finds a match rewrites the topic to
 * its replacement, {@code $1}..{@code $9} standing for the expression's groups.
 *
 * <p>Rules are indexed by their filter's first level, so that a topic is compared only with the rules that could
 * match it: with many rules of which none matches, a PUBLISH costs one hash lookup. Immutable; any thread.
 */
public final class TopicRewrites {
    private static final Rule[] NONE = new Rule[0];

    /** One rule and its place in the file, for "first match wins" across the index's buckets. */
    private record Rule(int order, String[] filter, TopicFeatures.RewriteRule rule) {
    }

    /** Rules whose filter starts with a literal level, by that level. */
    private final Map<String, Rule[]> byFirstLevel;
    /** Rules whose filter starts with a wildcard: they may match any topic (but '$' ones, as ever). */
    private final Rule[] wildcardFirst;

    private TopicRewrites(Map<String, Rule[]> byFirstLevel, Rule[] wildcardFirst) {
        this.byFirstLevel = byFirstLevel;
        this.wildcardFirst = wildcardFirst;
    }

    /** The rules that apply to PUBLISH topics; null if there are none (the flows then skip rewriting entirely). */
    public static TopicRewrites forPublish(List<TopicFeatures.RewriteRule> rules) {
        return of(rules.stream().filter(r -> r.scope().publish()).toList());
    }

    /** The rules that apply to SUBSCRIBE and UNSUBSCRIBE filters; null if there are none. */
    public static TopicRewrites forSubscribe(List<TopicFeatures.RewriteRule> rules) {
        return of(rules.stream().filter(r -> r.scope().subscribe()).toList());
    }

    private static TopicRewrites of(List<TopicFeatures.RewriteRule> rules) {
        if (rules.isEmpty()) {
            return null;
        }
        Map<String, List<Rule>> literal = new HashMap<>();
        List<Rule> wildcard = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            TopicFeatures.RewriteRule r = rules.get(i);
            String[] levels = TopicMatch.levels(r.filter());
            Rule rule = new Rule(i, levels, r);
            if (levels[0].equals(TopicMatch.SINGLE_LEVEL) || levels[0].equals(TopicMatch.MULTI_LEVEL)) {
                wildcard.add(rule);
            } else {
                literal.computeIfAbsent(levels[0], k -> new ArrayList<>()).add(rule);
            }
        }
        Map<String, Rule[]> index = new HashMap<>();
        literal.forEach((level, list) -> index.put(level, list.toArray(NONE)));
        return new TopicRewrites(index, wildcard.toArray(NONE));
    }

    /** The topic the first applying rule makes of {@code topic}, or {@code topic} itself if none applies. */
    public String rewriteTopic(String topic) {
        int slash = topic.indexOf('/');
        Rule[] literal = byFirstLevel.get(slash < 0 ? topic : topic.substring(0, slash));
        if (literal == null && wildcardFirst.length == 0) {
            return topic;
        }
        Rule[] first = literal == null ? NONE : literal;
        int i = 0;
        int j = 0;
        // both arrays are in file order: walk them merged, so the first rule in the file that applies wins
        while (i < first.length || j < wildcardFirst.length) {
            Rule r;
            if (j >= wildcardFirst.length || (i < first.length && first[i].order() < wildcardFirst[j].order())) {
                r = first[i++];
            } else {
                r = wildcardFirst[j++];
            }
            if (!TopicMatch.matches(r.filter(), topic)) {
                continue;
            }
            Matcher m = r.rule().regex().matcher(topic);
            if (m.find()) {
                return substitute(r.rule().replacement(), m);
            }
        }
        return topic;
    }

    /**
     * A subscription filter rewritten like a topic; a shared subscription's {@code $share/<group>/} stays, and only
     * the filter after it is rewritten.
     */
    public String rewriteFilter(String filter) {
        if (!TopicSyntax.isSharedSubscription(filter)) {
            return rewriteTopic(filter);
        }
        String inner = TopicSyntax.messageFilter(filter);
        String rewritten = rewriteTopic(inner);
        return rewritten.equals(inner) ? filter
                : filter.substring(0, filter.length() - inner.length()) + rewritten;
    }

    private static String substitute(String replacement, Matcher m) {
        if (replacement.indexOf('$') < 0) {
            return replacement;
        }
        StringBuilder out = new StringBuilder(replacement.length() + 16);
        for (int i = 0; i < replacement.length(); i++) {
            char ch = replacement.charAt(i);
            if (ch == '$' && i + 1 < replacement.length()) {
                char d = replacement.charAt(i + 1);
                if (d >= '1' && d <= '9') {
                    String group = m.group(d - '0');
                    out.append(group == null ? "" : group);
                    i++;
                    continue;
                }
            }
            out.append(ch);
        }
        return out.toString();
    }
}
