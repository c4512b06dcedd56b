package io.ternmq.bench;

import org.HdrHistogram.Histogram;

import java.util.Locale;

/** Number formatting for progress lines and summaries. */
final class Fmt {
    private Fmt() {
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%,.0f/s", perSecond);
    }

    /** A latency recorded in microseconds, shown in milliseconds. */
    static String ms(long micros) {
        return String.format(Locale.ROOT, "%.3f ms", micros / 1000.0);
    }

    static String bytes(long b) {
        if (b < 0) {
            return "n/a";
        }
        if (b < 10 * 1024) {
            return b + " B";
        }
        if (b < 10L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
    }

    static String latencies(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "no samples";
        }
        return "p50 " + ms(h.getValueAtPercentile(50)) + "  p99 " + ms(h.getValueAtPercentile(99))
                + "  p99.9 " + ms(h.getValueAtPercentile(99.9)) + "  max " + ms(h.getMaxValue());
    }

    static String seconds(double s) {
        return String.format(Locale.ROOT, "%.1f s", s);
    }
}
