package io.ternmq.broker.extension;

import io.ternmq.extension.api.MetricsService;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** One extension's own counters ({@code MetricsService}). */
final class ExtensionMetrics implements MetricsService {
    private final Map<String, Adder> counters = new ConcurrentHashMap<>();

    private static final class Adder implements Counter {
        private final LongAdder sum = new LongAdder();

        @Override
        public void increment() {
            sum.increment();
        }

        @Override
        public void add(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("a counter only grows: " + n);
            }
            sum.add(n);
        }

        @Override
        public long value() {
            return sum.sum();
        }
    }

    @Override
    public Counter counter(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a counter needs a name");
        }
        return counters.computeIfAbsent(name, n -> new Adder());
    }

    /** Name to value, sorted. */
    Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }
}
