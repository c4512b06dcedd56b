package io.ternmq.broker.store;

/**
 * One unit of work for the {@link Store}. All operations of a store run in one order: {@link #prepare} fills in the
 * writes (and may assign sequence numbers, which is why it runs in that single order), and {@link #applied} runs in
 * the same order once those writes are as durable as {@code storage.durability} requires. Neither may block.
 */
public interface StoreOp {

    void prepare(StoreWriter writer);

    /** The writes are stored; acknowledge, deliver, continue. Runs on the store's thread, so hand real work off. */
    default void applied() {
    }
}
