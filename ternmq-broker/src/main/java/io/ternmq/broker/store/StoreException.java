package io.ternmq.broker.store;

/** The store cannot be opened or read; the message names the file and the problem. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
