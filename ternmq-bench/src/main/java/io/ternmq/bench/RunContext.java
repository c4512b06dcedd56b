package io.ternmq.bench;

import io.ternmq.codec.MqttVersion;

import java.util.concurrent.ThreadLocalRandom;

/** What every client of one run shares: options, the phase of the run, the run id, the statistics. */
final class RunContext {
    static final int CONNECTING = 0;
    static final int WARMUP = 1;
    static final int MEASURE = 2;
    static final int STOPPED = 3;

    final ClientOptions client;
    /** Null for scenarios that do not publish. */
    final TrafficOptions traffic;
    final Transport transport;
    final Stats stats = new Stats();
    final int runId = ThreadLocalRandom.current().nextInt(0x10000);
    /**
     * True when this run has no publishers of its own (the sub scenario): messages of any bench run count, streams
     * told apart by run id and stream id, so a subscriber can measure publishers in other processes.
     */
    final boolean anyRun;
    final MqttVersion version;
    /** Packets larger than this from the broker are a protocol error. */
    final int maxPacketSize = 268_435_460;

    volatile int phase = CONNECTING;

    RunContext(ClientOptions client, TrafficOptions traffic, Transport transport, boolean anyRun) {
        this.client = client;
        this.traffic = traffic;
        this.transport = transport;
        this.version = client.version;
        this.anyRun = anyRun;
    }

    boolean publishing() {
        int p = phase;
        return p == WARMUP || p == MEASURE;
    }
}
