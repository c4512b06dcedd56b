package io.ternmq.bench;

import com.sun.tools.attach.VirtualMachine;

import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * Heap and direct memory of another JVM on this machine (the broker), through the Attach API and JMX: attach, start
 * its local management agent, read the platform MXBeans. Heap is measured after a full GC (MemoryMXBean.gc), so it
 * is what is live; direct memory is the JDK's "direct" buffer pool, which holds Netty's pooled direct arenas when
 * Netty allocates through ByteBuffer.allocateDirect (its default on JDK 17 without --add-opens).
 */
final class JvmProbe implements AutoCloseable {
    private final JMXConnector connector;
    private final MBeanServerConnection mbeans;

    private JvmProbe(JMXConnector connector) throws Exception {
        this.connector = connector;
        this.mbeans = connector.getMBeanServerConnection();
    }

    static JvmProbe attach(long pid) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        return new JvmProbe(JMXConnectorFactory.connect(new JMXServiceURL(address)));
    }

    /** Runs a full GC in the target, then reads its memory. */
    Memory measure() throws Exception {
        MemoryMXBean memory = ManagementFactory.newPlatformMXBeanProxy(mbeans,
                ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        memory.gc();
        long heapUsed = memory.getHeapMemoryUsage().getUsed();
        long heapCommitted = memory.getHeapMemoryUsage().getCommitted();
        long direct = -1;
        long directCount = -1;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(mbeans, BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed();
                directCount = pool.getCount();
            }
        }
        return new Memory(heapUsed, heapCommitted, direct, directCount);
    }

    @Override
    public void close() {
        try {
            connector.close();
        } catch (Exception ignored) {
            // nothing to do
        }
    }

    record Memory(long heapUsed, long heapCommitted, long direct, long directBuffers) {
    }
}
