package io.ternmq.broker.security;

import io.ternmq.broker.routing.TopicMatch;
import io.ternmq.codec.TopicSyntax;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An ACL file in Mosquitto's syntax, compiled. Lines:
 * <pre>
 * # comment
 * topic [read|write|readwrite|subscribe|deny] &lt;filter&gt;     rules of the current section
 * user &lt;username&gt;                                        starts the rules of a user
 * clientid &lt;client id&gt;                                   starts the rules of a client id (TernMQ)
 * pattern [read|write|readwrite|subscribe|deny] &lt;filter&gt;   a rule for every client; %u user name, %c client id
 * </pre>
 * {@code topic} lines before any {@code user}/{@code clientid} line apply to anonymous clients (as in Mosquitto).
 * Without an access word a rule grants {@code readwrite}. Rights:
 * <ul>
 *   <li>{@code read}: subscribe with filters inside the rule's filter, and receive messages on matching topics;</li>
 *   <li>{@code write}: publish to matching topics (wills too);</li>
 *   <li>{@code subscribe}: subscribe with filters inside the rule's filter, without receiving by itself: with
 *       {@code read} on narrower topics it allows a wide subscription that delivers only those;</li>
 *   <li>{@code deny}: nothing on matching topics, whatever other rules grant.</li>
 * </ul>
 * Everything not granted is denied. A subscription is allowed when a {@code read}/{@code subscribe} rule's filter
 * covers all of it and no {@code deny} rule covers all of it; messages are then delivered per topic, so {@code a/#}
 * is allowed next to {@code deny a/secret/#} but never delivers {@code a/secret/x}.
 */
public final class AclFile {
    static final int READ = 1;
    static final int WRITE = 2;
    static final int SUBSCRIBE = 4;
    static final int DENY = 8;
    private static final int CACHE_LIMIT = 10_000;

    /** One rule: rights and the filter, split into levels. {@code template} marks %u/%c patterns. */
    record Rule(int access, String filter, String[] levels) {
    }

    private final List<Rule> anonymous;
    private final Map<String, List<Rule>> users;
    private final Map<String, List<Rule>> clientIds;
    private final List<Rule> patterns;
    /** The compiled rules of each identity seen, dropped with this instance when the file is reloaded. */
    private final Map<IdentityKey, Rules> compiled = new ConcurrentHashMap<>();

    private AclFile(List<Rule> anonymous, Map<String, List<Rule>> users, Map<String, List<Rule>> clientIds,
                    List<Rule> patterns) {
        this.anonymous = anonymous;
        this.users = users;
        this.clientIds = clientIds;
        this.patterns = patterns;
    }

    public static AclFile load(Path file) throws IOException {
        return parse(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException naming file and line, for a line that is not a rule */
    public static AclFile parse(String source, List<String> lines) {
        List<Rule> anonymous = new ArrayList<>();
        Map<String, List<Rule>> users = new HashMap<>();
        Map<String, List<Rule>> clientIds = new HashMap<>();
        List<Rule> patterns = new ArrayList<>();
        List<Rule> section = anonymous;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + ":" + (i + 1) + ": ";
            int space = indexOfWhitespace(line);
            String keyword = space < 0 ? line : line.substring(0, space);
            String rest = space < 0 ? "" : line.substring(space).strip();
            switch (keyword) {
                case "user" -> {
                    require(!rest.isEmpty(), where + "user needs a user name");
                    section = users.computeIfAbsent(rest, k -> new ArrayList<>());
                }
                case "clientid" -> {
                    require(!rest.isEmpty(), where + "clientid needs a client id");
                    section = clientIds.computeIfAbsent(rest, k -> new ArrayList<>());
                }
                case "topic" -> section.add(rule(rest, where, false));
                case "pattern" -> patterns.add(rule(rest, where, true));
                default -> throw new IllegalArgumentException(where + "unknown keyword '" + keyword
                        + "' (expected topic, pattern, user or clientid)");
            }
        }
        return new AclFile(List.copyOf(anonymous), users, clientIds, List.copyOf(patterns));
    }

    private static Rule rule(String rest, String where, boolean pattern) {
        int access = READ | WRITE | SUBSCRIBE;
        String filter = rest;
        int space = indexOfWhitespace(rest);
        if (space > 0) {
            String word = rest.substring(0, space).toLowerCase(Locale.ROOT);
            Integer a = switch (word) {
                case "read" -> READ | SUBSCRIBE;
                case "write" -> WRITE;
                case "readwrite" -> READ | WRITE | SUBSCRIBE;
                case "subscribe" -> SUBSCRIBE;
                case "deny" -> DENY;
                default -> null;
            };
            if (a != null) {
                access = a;
                filter = rest.substring(space).strip();
            }
        }
        require(!filter.isEmpty(), where + "missing topic");
        // a pattern is checked after substitution; here only its shape
        String check = pattern ? filter.replace("%u", "u").replace("%c", "c") : filter;
        require(TopicSyntax.isValidTopicFilter(check), where + "'" + filter + "' is not a valid topic filter");
        return new Rule(access, filter, TopicMatch.levels(filter));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ decisions

    public boolean mayPublish(String username, String clientId, String topic) {
        return rules(username, clientId).mayPublish(topic);
    }

    public boolean maySubscribe(String username, String clientId, String filter) {
        return rules(username, clientId).maySubscribe(TopicSyntax.messageFilter(filter));
    }

    public boolean mayReceive(String username, String clientId, String topic) {
        return rules(username, clientId).mayReceive(topic);
    }

    private record IdentityKey(String username, String clientId) {
    }

    Rules rules(String username, String clientId) {
        IdentityKey key = new IdentityKey(username, clientId);
        Rules r = compiled.get(key);
        if (r == null) {
            r = compile(username, clientId);
            if (compiled.size() >= CACHE_LIMIT) {
                compiled.clear();
            }
            compiled.put(key, r);
        }
        return r;
    }

    private Rules compile(String username, String clientId) {
        List<Rule> all = new ArrayList<>();
        if (username == null) {
            all.addAll(anonymous);
        } else {
            all.addAll(users.getOrDefault(username, List.of()));
        }
        if (clientId != null) {
            all.addAll(clientIds.getOrDefault(clientId, List.of()));
        }
        for (Rule p : patterns) {
            String f = p.filter();
            if (f.contains("%u")) {
                if (!safeForPattern(username)) {
                    continue;
                }
                f = f.replace("%u", username);
            }
            if (f.contains("%c")) {
                if (!safeForPattern(clientId)) {
                    continue;
                }
                f = f.replace("%c", clientId);
            }
            all.add(new Rule(p.access(), f, TopicMatch.levels(f)));
        }
        return new Rules(all);
    }

    /** A name substituted into a pattern must stay one level and not become a wildcard. */
    private static boolean safeForPattern(String name) {
        return name != null && !name.isEmpty() && name.indexOf('/') < 0 && name.indexOf('+') < 0
                && name.indexOf('#') < 0;
    }

    /** One identity's rules, with a small cache of receive decisions (asked for every delivery). */
    static final class Rules {
        private static final int RECEIVE_CACHE_LIMIT = 4096;
        private final Rule[] denies;
        private final Rule[] reads;
        private final Rule[] writes;
        private final Rule[] subscribes;
        private final Map<String, Boolean> receiveCache = new ConcurrentHashMap<>();

        Rules(List<Rule> all) {
            this.denies = all.stream().filter(r -> (r.access() & DENY) != 0).toArray(Rule[]::new);
            this.reads = all.stream().filter(r -> (r.access() & READ) != 0).toArray(Rule[]::new);
            this.writes = all.stream().filter(r -> (r.access() & WRITE) != 0).toArray(Rule[]::new);
            this.subscribes = all.stream().filter(r -> (r.access() & SUBSCRIBE) != 0).toArray(Rule[]::new);
        }

        boolean mayPublish(String topic) {
            return !anyMatches(denies, topic) && anyMatches(writes, topic);
        }

        boolean mayReceive(String topic) {
            Boolean cached = receiveCache.get(topic);
            if (cached != null) {
                return cached;
            }
            boolean ok = !anyMatches(denies, topic) && anyMatches(reads, topic);
            if (receiveCache.size() < RECEIVE_CACHE_LIMIT) {
                receiveCache.put(topic, ok);
            }
            return ok;
        }

        boolean maySubscribe(String filter) {
            String[] f = TopicMatch.levels(filter);
            for (Rule d : denies) {
                if (TopicMatch.covers(d.levels(), f)) {
                    return false;
                }
            }
            for (Rule s : subscribes) {
                if (TopicMatch.covers(s.levels(), f)) {
                    return true;
                }
            }
            return false;
        }

        private static boolean anyMatches(Rule[] rules, String topic) {
            for (Rule r : rules) {
                if (TopicMatch.matches(r.levels(), topic)) {
                    return true;
                }
            }
            return false;
        }
    }
}
