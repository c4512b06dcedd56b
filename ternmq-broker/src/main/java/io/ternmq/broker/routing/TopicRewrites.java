package io.ternmq.broker.routing;

import io.ternmq.broker.config.TopicFeatures;
import io.ternmq.codec.TopicSyntax;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;

/**
 * The {@code topic_rewrite} rules of one direction (PUBLISH topics, or SUBSCRIBE/UNSUBSCRIBE filters), compiled
 * once. The first rule in file order whose filter matches and whose expression finds a match rewrites the topic to
 * its replacement, {@code $1}..{@code $9} standing for the expression's groups.
 *
 * <p>Rules are indexed by filter as subscriptions are (a hash map for filters without wildcards, a {@link TopicTrie}
 * for the others), so a topic meets only the rules whose filter matches it: with many rules of which none matches, a
 * PUBLISH costs a hash lookup and a walk of the topic's levels. Immutable once built; any thread.
 */
public final class TopicRewrites {
    private static final Rule[] NONE = new Rule[0];

    /** One rule and its place in the file, for "first match wins" across filters. */
    private record Rule(int order, TopicFeatures.RewriteRule rule) {
    }

    /** Rules whose filter has no wildcard, by filter, each list in file order. */
    private final Map<String, Rule[]> exact;
    /** Rules whose filter has a wildcard; a node's value is its filter's rules in file order. */
    private final TopicTrie<Rule[]> wildcards;

    /**
     * The first levels of all filters, when none starts with a wildcard (else null): a topic whose first level is
     * not among them meets no rule, which one lookup tells.
     */
    private final java.util.Set<String> firstLevels;

    private TopicRewrites(Map<String, Rule[]> exact, TopicTrie<Rule[]> wildcards, java.util.Set<String> firstLevels) {
        this.exact = exact;
        this.wildcards = wildcards;
        this.firstLevels = firstLevels;
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
        Map<String, List<Rule>> byFilter = new LinkedHashMap<>();
        for (int i = 0; i < rules.size(); i++) {
            TopicFeatures.RewriteRule r = rules.get(i);
            byFilter.computeIfAbsent(r.filter(), k -> new ArrayList<>()).add(new Rule(i, r));
        }
        Map<String, Rule[]> exact = new HashMap<>();
        TopicTrie<Rule[]> wildcards = new TopicTrie<>();
        java.util.Set<String> firstLevels = new java.util.HashSet<>();
        for (String filter : byFilter.keySet()) {
            String first = TopicMatch.levels(filter)[0];
            if (first.equals(TopicMatch.SINGLE_LEVEL) || first.equals(TopicMatch.MULTI_LEVEL)) {
                firstLevels = null;
                break;
            }
            firstLevels.add(first);
        }
        byFilter.forEach((filter, list) -> {
            if (TopicSyntax.hasWildcard(filter)) {
                wildcards.nodeForWrite(filter).value(list.toArray(NONE));
            } else {
                exact.put(filter, list.toArray(NONE));
            }
        });
        return new TopicRewrites(exact, wildcards, firstLevels);
    }

    /** The rule lists whose filters match one topic. */
    private static final class Matching implements Consumer<Rule[]> {
        Rule[] first;
        List<Rule[]> more;

        @Override
        public void accept(Rule[] rules) {
            if (first == null) {
                first = rules;
            } else {
                if (more == null) {
                    more = new ArrayList<>(2);
                }
                more.add(rules);
            }
        }
    }

    /** The topic the first applying rule makes of {@code topic}, or {@code topic} itself if none applies. */
    public String rewriteTopic(String topic) {
        if (firstLevels != null) {
            int slash = topic.indexOf('/');
            if (!firstLevels.contains(slash < 0 ? topic : topic.substring(0, slash))) {
                return topic;
            }
        }
        Matching matching = new Matching();
        Rule[] exactRules = exact.isEmpty() ? null : exact.get(topic);
        if (exactRules != null) {
            matching.accept(exactRules);
        }
        if (!wildcards.isEmpty()) {
            wildcards.matchFilters(topic, matching);
        }
        if (matching.first == null) {
            return topic;
        }
        Rule[] candidates = matching.first;
        if (matching.more != null) {
            // several filters match: their rules, merged into file order
            List<Rule> all = new ArrayList<>(List.of(candidates));
            matching.more.forEach(rules -> all.addAll(List.of(rules)));
            all.sort((a, b) -> Integer.compare(a.order(), b.order()));
            candidates = all.toArray(NONE);
        }
        for (Rule r : candidates) {
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
