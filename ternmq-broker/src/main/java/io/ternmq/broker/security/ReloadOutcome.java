package io.ternmq.broker.security;

/**
 * What reloading one file did (SIGHUP, {@code POST /api/v1/reload}): loaded, or kept the previous version because of
 * {@code error}.
 *
 * @param what  e.g. "password file", "TLS certificate of listener 127.0.0.1:8883"
 * @param file  the file (for a TLS context, its certificate or keystore)
 * @param error why it was not loaded, or null if it was
 */
public record ReloadOutcome(String what, String file, String error) {
    public boolean reloaded() {
        return error == null;
    }
}
