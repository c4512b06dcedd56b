package io.ternmq.broker.extension;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * One extension's classes: its own jars first (parent-last), so that it may bundle any version of any library.
 * Shared with the broker are only the extension API and SLF4J (one copy of each, or the broker and the extension
 * would not agree on the types); {@code java.*} and the rest of the JDK come from the platform. Nothing else of the
 * broker's class path (Netty, RocksDB, picocli, the broker itself) is visible.
 */
final class ExtensionClassLoader extends URLClassLoader {
    static {
        registerAsParallelCapable();
    }

    private static final ClassLoader BROKER = ExtensionClassLoader.class.getClassLoader();

    ExtensionClassLoader(String id, URL[] jars) {
        super("extension-" + id, jars, ClassLoader.getPlatformClassLoader());
    }

    /** The packages the broker shares with every extension. */
    static boolean shared(String className) {
        return className.startsWith("io.ternmq.extension.api.") || className.startsWith("org.slf4j.");
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                if (name.startsWith("java.")) {
                    c = getParent().loadClass(name);
                } else if (shared(name)) {
                    c = BROKER.loadClass(name);
                } else {
                    try {
                        c = findClass(name);
                    } catch (ClassNotFoundException notOwn) {
                        c = getParent().loadClass(name); // the JDK's other modules (javax.*, ...)
                    }
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    @Override
    public URL getResource(String name) {
        URL own = findResource(name);
        return own != null ? own : getParent().getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        List<URL> all = new ArrayList<>(Collections.list(findResources(name)));
        all.addAll(Collections.list(getParent().getResources(name)));
        return Collections.enumeration(all);
    }
}
