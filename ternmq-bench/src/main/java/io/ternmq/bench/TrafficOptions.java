package io.ternmq.bench;

import picocli.CommandLine.Option;

/** Options of the scenarios that publish: QoS, payload, rate, how long. */
final class TrafficOptions {
    @Option(names = {"-q", "--qos"}, defaultValue = "0", description = "QoS of publications and subscriptions: "
            + "0, 1 or 2 (default ${DEFAULT-VALUE})")
    int qos;

    @Option(names = {"-s", "--size"}, defaultValue = "64",
            description = "payload size in bytes, at least " + Payload.HEADER_SIZE + " (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = {"-r", "--rate"}, defaultValue = "0",
            description = "messages per second per publisher; 0 = as fast as possible (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--inflight", defaultValue = "64",
            description = "QoS 1/2 messages a publisher has unacknowledged at most (MQTT 5: also at most the "
                    + "broker's Receive Maximum) (default ${DEFAULT-VALUE})")
    int inflight;

    @Option(names = {"-d", "--duration"},
            description = "seconds to publish (after --warmup); default 10, or no limit when --count is given")
    Double duration;

    @Option(names = {"-n", "--count"}, defaultValue = "0",
            description = "messages each publisher sends (after --warmup), 0 = no limit; standalone sub: messages "
                    + "each subscriber receives, then it stops and its rate is the first to the last of them")
    long count;

    @Option(names = "--warmup", defaultValue = "0",
            description = "seconds of traffic before measuring (not counted) (default ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--drain", defaultValue = "10",
            description = "seconds to wait at most, after publishing stops, for messages still on their way; the "
                    + "wait ends early once everything arrived or nothing arrived for 2 s (default ${DEFAULT-VALUE})")
    double drain;

    @Option(names = {"-t", "--topic"},
            description = "topic of each publisher; %%i is its index, %%c its client id (default per scenario)")
    String topic;

    @Option(names = "--broker-pid", description = "the broker's process id: report the CPU it used while measuring "
            + "(and its RSS at the end), next to this tool's own")
    Long brokerPid;

    double durationSeconds() {
        if (duration != null) {
            return duration;
        }
        return count > 0 ? Double.POSITIVE_INFINITY : 10;
    }

    void check() {
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("--qos must be 0, 1 or 2");
        }
        if (size < Payload.HEADER_SIZE) {
            throw new IllegalArgumentException("--size must be at least " + Payload.HEADER_SIZE
                    + " (sequence number and timestamp)");
        }
        if (inflight < 1 || inflight > 65535) {
            throw new IllegalArgumentException("--inflight must be 1..65535");
        }
        if (rate < 0) {
            throw new IllegalArgumentException("--rate must not be negative");
        }
    }
}
