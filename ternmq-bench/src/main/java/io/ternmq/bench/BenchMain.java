package io.ternmq.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The {@code ternmq-bench} command: an MQTT load generator in the spirit of emqtt-bench. Progress lines and the
 * summary go to standard error; standard output gets exactly one line, {@code RESULT {json}}, at the end.
 */
@Command(name = "ternmq-bench", mixinStandardHelpOptions = true, versionProvider = BenchMain.Version.class,
        subcommands = {BenchMain.Conn.class, BenchMain.Pub.class, BenchMain.Sub.class, BenchMain.FanIn.class,
                BenchMain.FanOut.class, BenchMain.Pairs.class},
        description = {"MQTT load generator. Every scenario prints a progress line each second and a summary (on "
                + "standard error) and one machine-readable line 'RESULT {json}' (on standard output).",
                "Exit status: 0 when every client connected and stayed connected, 3 otherwise, 2 for bad options."},
        footer = {"", "Examples:",
                "  ternmq-bench pairs -c 64 -q 1 -s 1024 -d 10",
                "  ternmq-bench fanin -c 8 -r 1000 -q 1",
                "  ternmq-bench conn -c max --broker-pid $(pgrep -n mosquitto)"})
public final class BenchMain implements Runnable {
    static PrintStream err = System.err;
    static PrintStream out = System.out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new BenchMain());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException) {
                commandLine.getErr().println("ternmq-bench: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cl;
    }

    /** Runs the tool in this process. @return the RESULT fields, or null if the command produced none */
    public static Result execute(String... args) {
        CommandLine cl = commandLine();
        int code = cl.execute(args);
        Map<String, Object> fields = null;
        CommandLine.ParseResult pr = cl.getParseResult();
        if (pr != null && pr.subcommand() != null
                && pr.subcommand().commandSpec().userObject() instanceof Scenario s) {
            fields = s.result;
        }
        return new Result(code, fields);
    }

    /** The exit code and RESULT fields of a run. */
    public record Result(int exitCode, Map<String, Object> fields) {
        public long getLong(String key) {
            return ((Number) fields.get(key)).longValue();
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(err);
    }

    /** Base of the subcommands: prints the RESULT line and turns it into an exit status. */
    abstract static class Scenario implements Callable<Integer> {
        @Option(names = "--help", usageHelp = true, description = "show this help")
        boolean help;

        Map<String, Object> result;

        abstract Map<String, Object> runScenario() throws Exception;

        @Override
        public Integer call() throws Exception {
            result = runScenario();
            out.println("RESULT " + Json.write(result));
            out.flush();
            return Boolean.TRUE.equals(result.get("ok")) ? 0 : 3;
        }
    }

    @Command(name = "conn", sortOptions = false,
            description = "Open N connections at --conn-rate, hold them idle with keep alive, report the connection "
                    + "rate and (with --broker-pid) the broker's memory per connection.")
    static final class Conn extends Scenario {
        @Option(names = {"-c", "--connections"}, defaultValue = "1000",
                description = "connections, or 'max': as many as this process's and the broker's open-file limits "
                        + "allow (default ${DEFAULT-VALUE})")
        String connections;

        @Option(names = {"-d", "--duration"}, defaultValue = "10",
                description = "seconds to hold the connections once all are open (default ${DEFAULT-VALUE})")
        double hold;

        @Option(names = "--settle", defaultValue = "2",
                description = "seconds after the last connection before measuring the broker (default ${DEFAULT-VALUE})")
        double settle;

        @Option(names = "--broker-pid", description = "the broker's process id: sample its RSS (and, for a JVM, heap "
                + "and direct memory) before and after connecting")
        Long brokerPid;

        @Option(names = "--jmx", negatable = true, description = "read heap and direct memory through the Attach API "
                + "and JMX (default: when the broker process is a JVM)")
        Boolean jmx;

        @Option(names = "--rss-at", split = ",", paramLabel = "S",
                description = "with --broker-pid: more readings of the broker's RSS, this many seconds after the last "
                        + "connection (e.g. 5,30; within --duration), for a broker whose memory changes while idle")
        List<Double> rssAt = new ArrayList<>();

        @Mixin
        ClientOptions client;

        @Override
        Map<String, Object> runScenario() throws Exception {
            for (double s : rssAt) {
                if (s < 0 || s > hold) {
                    throw new IllegalArgumentException("--rss-at " + s + ": must be within 0.." + hold
                            + " s (--duration)");
                }
            }
            return new ConnRun(client, connections, brokerPid, hold, settle, jmx, err, rssAt).run();
        }
    }

    @Command(name = "pub", sortOptions = false, description = "P publishers, each to its own topic (default "
            + "bench/%%i), with no subscribers of ours: the publish rate (and acknowledgements at QoS 1/2).")
    static final class Pub extends Scenario {
        @Option(names = {"-c", "--publishers"}, defaultValue = "1", description = "publishers (default ${DEFAULT-VALUE})")
        int publishers;

        @Mixin
        TrafficOptions traffic;

        @Mixin
        ClientOptions client;

        @Override
        Map<String, Object> runScenario() throws Exception {
            String topic = traffic.topic != null ? traffic.topic : "bench/%i";
            return new TrafficRun(new TrafficRun.Plan("pub", publishers + " publishers", 0, i -> List.of(),
                    publishers, i -> topic, -1), client, traffic, err).run();
        }
    }

    @Command(name = "sub", sortOptions = false, description = "S subscribers to one filter (default bench/#) for "
            + "--duration seconds: the receive rate; for messages from ternmq-bench publishers (this or another "
            + "process on the same machine) also latency, duplicates, out-of-order and gaps.")
    static final class Sub extends Scenario {
        @Option(names = {"-c", "--subscribers"}, defaultValue = "1",
                description = "subscribers (default ${DEFAULT-VALUE})")
        int subscribers;

        @Option(names = "--filter", defaultValue = "bench/#", description = "topic filter (default ${DEFAULT-VALUE})")
        String filter;

        @Mixin
        TrafficOptions traffic;

        @Mixin
        ClientOptions client;

        @Override
        Map<String, Object> runScenario() throws Exception {
            return new TrafficRun(new TrafficRun.Plan("sub", subscribers + " subscribers to " + filter, subscribers,
                    i -> List.of(filter), 0, i -> "", -1), client, traffic, err).run();
        }
    }

    @Command(name = "fanin", sortOptions = false, description = "P publishers, each to its own topic "
            + "bench/fanin/%%i, and 1 subscriber to the wildcard bench/fanin/#.")
    static final class FanIn extends Scenario {
        @Option(names = {"-c", "--publishers"}, defaultValue = "8", description = "publishers (default ${DEFAULT-VALUE})")
        int publishers;

        @Option(names = "--filter", description = "the subscriber's filter (default bench/fanin/#, or, with --topic, "
                + "the topic up to its first %% followed by #)")
        String filter;

        @Mixin
        TrafficOptions traffic;

        @Mixin
        ClientOptions client;

        @Override
        Map<String, Object> runScenario() throws Exception {
            String topic = traffic.topic != null ? traffic.topic : "bench/fanin/%i";
            String f = filter != null ? filter : wildcardOf(topic);
            return new TrafficRun(new TrafficRun.Plan("fanin", publishers + " publishers -> 1 subscriber (" + f + ")",
                    1, i -> List.of(f), publishers, i -> topic, 1), client, traffic, err).run();
        }

        private static String wildcardOf(String topic) {
            int p = topic.indexOf('%');
            if (p < 0) {
                return topic;
            }
            int slash = topic.lastIndexOf('/', p);
            return (slash < 0 ? "" : topic.substring(0, slash + 1)) + "#";
        }
    }

    @Command(name = "fanout", sortOptions = false, description = "1 publisher (or --publishers) to one topic "
            + "(default bench/fanout), S subscribers to it: every message goes to every subscriber.")
    static final class FanOut extends Scenario {
        @Option(names = {"-c", "--subscribers"}, defaultValue = "32",
                description = "subscribers (default ${DEFAULT-VALUE})")
        int subscribers;

        @Option(names = "--publishers", defaultValue = "1", description = "publishers (default ${DEFAULT-VALUE})")
        int publishers;

        @Mixin
        TrafficOptions traffic;

        @Mixin
        ClientOptions client;

        @Override
        Map<String, Object> runScenario() throws Exception {
            String topic = traffic.topic != null ? traffic.topic : "bench/fanout";
            if (topic.contains("%")) {
                throw new IllegalArgumentException("fanout: --topic is one topic, without %i or %c");
            }
            return new TrafficRun(new TrafficRun.Plan("fanout", publishers + " publisher(s) -> " + subscribers
                    + " subscribers", subscribers, i -> List.of(topic), publishers, i -> topic, subscribers),
                    client, traffic, err).run();
        }
    }

    @Command(name = "pairs", sortOptions = false, description = "N publisher/subscriber pairs, one topic each "
            + "(default bench/pairs/%%i): publisher i to subscriber i.")
    static final class Pairs extends Scenario {
        @Option(names = {"-c", "--pairs"}, defaultValue = "64", description = "pairs (default ${DEFAULT-VALUE})")
        int pairs;

        @Mixin
        TrafficOptions traffic;

        @Mixin
        ClientOptions client;

        @Override
        Map<String, Object> runScenario() throws Exception {
            String topic = traffic.topic != null ? traffic.topic : "bench/pairs/%i";
            String prefix = client.prefix();
            return new TrafficRun(new TrafficRun.Plan("pairs", pairs + " pairs", pairs,
                    i -> List.of(topic.replace("%i", Integer.toString(i)).replace("%c", prefix + "pub-" + i)),
                    pairs, i -> topic, 1), client, traffic, err).run();
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = BenchMain.class.getPackage().getImplementationVersion();
            return new String[] {"ternmq-bench " + (v == null ? "(development build)" : v)};
        }
    }
}
