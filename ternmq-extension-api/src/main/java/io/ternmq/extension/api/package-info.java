/**
 * What a TernMQ extension compiles against (docs/extensions.md). An extension is a folder under
 * {@code extensions_dir} holding its jar(s) and a {@code ternmq-extension.properties}; the broker loads it in a class
 * loader of its own that sees only {@code java.*}, this package and {@code org.slf4j.*} of the broker's, and calls
 * its {@link io.ternmq.extension.api.ExtensionMain} before the first listener opens.
 *
 * <p>Types marked <em>broker-owned</em> are implemented by the broker and handed to the extension; an extension must
 * not implement them (new methods may be added to them in a minor version). Types an extension implements
 * ({@link io.ternmq.extension.api.ExtensionMain}, the interceptors, {@link
 * io.ternmq.extension.api.ClientLifecycleListener}) only gain default methods in a minor version.
 *
 * <p>Versioning: {@link io.ternmq.extension.api.ExtensionApi#VERSION}, {@code major.minor}, semantic: a minor
 * version only adds. An extension built for a newer version than the broker's is refused.
 *
 * @since 0.1
 */
package io.ternmq.extension.api;
