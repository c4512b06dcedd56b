package io.ternmq.broker.store;

/** The store contract, for the memory store (what "survives" is what the same instance holds). */
class MemoryStoreContractTest extends StoreContractTest {

    @Override
    protected Store open() {
        return new MemoryStore();
    }

    @Override
    protected Store reopen() {
        return store;
    }

    @Override
    protected long messageCount() {
        return ((MemoryStore) store).messageCount();
    }
}
