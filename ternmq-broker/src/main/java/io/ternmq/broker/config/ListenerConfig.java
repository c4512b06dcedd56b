package io.ternmq.broker.config;

/** One network listener: where it binds. Port 0 asks the OS for a free port (tests use that). */
public record ListenerConfig(String bindAddress, int port) {
    public ListenerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, not " + port);
        }
    }

    @Override
    public String toString() {
        return bindAddress + ":" + port;
    }
}
