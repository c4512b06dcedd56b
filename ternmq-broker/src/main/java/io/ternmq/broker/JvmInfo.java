package io.ternmq.broker;

import io.netty.util.internal.PlatformDependent;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The JVM the broker runs in, as one line for the start-up log: version, heap and direct-memory limits, collector and
 * the options it was started with (bin/ternmq chooses some; TERNMQ_JAVA_OPTS adds or replaces them), so a user sees
 * what sizes the process's memory without reading the launcher.
 */
final class JvmInfo {
    private JvmInfo() {
    }

    static String describe() {
        RuntimeMXBean rt = ManagementFactory.getRuntimeMXBean();
        long heapMax = Runtime.getRuntime().maxMemory();
        long heapInit = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getInit();
        List<String> args = rt.getInputArguments();
        String collectors = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName).collect(Collectors.joining(", "));
        StringBuilder sb = new StringBuilder("JVM: ").append(rt.getVmName()).append(' ')
                .append(System.getProperty("java.runtime.version", rt.getVmVersion()))
                .append("; heap max ").append(size(heapMax))
                .append(heapInit > 0 ? ", initial " + size(heapInit) : "")
                .append("; direct memory max ").append(size(PlatformDependent.maxDirectMemory()))
                .append("; collector ").append(collectors.isEmpty() ? "unknown" : collectors)
                .append("; options: ").append(args.isEmpty() ? "(none)" : String.join(" ", args));
        // not JVM options, but glibc reads them at start-up and they size the native heap (JIT, RocksDB)
        for (String name : List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")) {
            String value = System.getenv(name);
            if (value != null) {
                sb.append("; ").append(name).append('=').append(value);
            }
        }
        return sb.toString();
    }

    /** 96 MiB, 1 GiB, 6028 MiB: whole MiB, or whole GiB when exact. */
    static String size(long bytes) {
        if (bytes < 0 || bytes == Long.MAX_VALUE) {
            return "unlimited";
        }
        long mib = 1L << 20;
        long gib = 1L << 30;
        if (bytes >= gib && bytes % gib == 0) {
            return bytes / gib + " GiB";
        }
        if (bytes >= mib) {
            return String.format(Locale.ROOT, "%d MiB", Math.round((double) bytes / mib));
        }
        return String.format(Locale.ROOT, "%d KiB", Math.round((double) bytes / 1024));
    }
}
