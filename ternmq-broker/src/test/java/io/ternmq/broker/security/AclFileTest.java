package io.ternmq.broker.security;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The ACL matrix: users, client ids, patterns, anonymous clients, wildcard subscriptions, deny. */
class AclFileTest {

    private static final AclFile ACL = AclFile.parse("acl", List.of(
            "# anonymous clients",
            "topic read public/#",
            "",
            "user alice",
            "topic readwrite home/alice/#",
            "topic read sensors/#",
            "topic deny sensors/secret/#",
            "topic write commands/lamp",
            "",
            "user bob",
            "topic subscribe reports/#",
            "topic read reports/+/summary",
            "topic sensors/bob",
            "",
            "user admin",
            "topic #",
            "topic deny $SYS/broker/secret",
            "",
            "clientid dashboard-1",
            "topic read dashboards/#",
            "",
            "pattern readwrite devices/%c/#",
            "pattern read users/%u/inbox",
            "pattern write users/%u/outbox/%c"));


    private static boolean pub(String user, String client, String topic) {
        return ACL.mayPublish(user, client, topic);
    }

    private static boolean sub(String user, String client, String filter) {
        return ACL.maySubscribe(user, client, filter);
    }

    private static boolean recv(String user, String client, String topic) {
        return ACL.mayReceive(user, client, topic);
    }

    @ParameterizedTest(name = "{0}/{1} publish {2}: {3}")
    @CsvSource(nullValues = "-", value = {
            "alice, c1, home/alice/light, true", "alice, c1, home/bob/light, false", "alice, c1, sensors/t, false",
            "alice, c1, commands/lamp, true", "alice, c1, commands/lamp/x, false",
            "bob, c2, sensors/bob, true", "bob, c2, reports/a/summary, false",
            "admin, c3, anything/at/all, true", "admin, c3, $SYS/broker/secret, false",
            "-, anon, public/x, false", "-, anon, x, false",
            "carol, c4, x, false",
            "carol, dev7, devices/dev7/status, true", "carol, dev7, devices/dev8/status, false",
            "carol, c9, users/carol/outbox/c9, true", "carol, c9, users/carol/outbox/c8, false",
            "carol, c9, users/carol/inbox, false"})
    void publish(String user, String client, String topic, boolean expected) {
        assertThat(pub(user, client, topic)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}/{1} receive {2}: {3}")
    @CsvSource(nullValues = "-", value = {
            "alice, c1, sensors/kitchen/t, true", "alice, c1, sensors/secret/key, false",
            "alice, c1, sensors/secret, false", "alice, c1, home/alice/x, true", "alice, c1, commands/lamp, false",
            "bob, c2, reports/2024/summary, true", "bob, c2, reports/2024/details, false",
            "-, anon, public/news, true", "-, anon, public, true", "-, anon, private/x, false",
            "carol, c1, public/news, false",
            "carol, x, users/carol/inbox, true", "dave, x, users/carol/inbox, false",
            "admin, a, $SYS/broker/uptime, false", "admin, a, $SYS/broker/secret, false",
            "eve, dashboard-1, dashboards/main, true", "eve, dashboard-2, dashboards/main, false"})
    void receive(String user, String client, String topic, boolean expected) {
        assertThat(recv(user, client, topic)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}/{1} subscribe {2}: {3}")
    @CsvSource(nullValues = "-", value = {
            // a wide subscription around a denied branch is allowed; mayReceive filters the branch
            "alice, c1, sensors/#, true", "alice, c1, sensors/+/t, true", "alice, c1, sensors/secret/#, false",
            "alice, c1, sensors/secret/key, false", "alice, c1, #, false", "alice, c1, home/#, false",
            "alice, c1, $share/g/sensors/#, true", "alice, c1, $share/g/sensors/secret/#, false",
            "bob, c2, reports/#, true", "bob, c2, reports/+/summary, true", "bob, c2, sensors/bob, true",
            "bob, c2, sensors/+, false",
            "-, anon, public/#, true", "-, anon, #, false",
            "admin, a, #, true", "admin, a, $SYS/#, false",
            "carol, dev7, devices/dev7/#, true", "carol, dev7, devices/+/status, false",
            "carol, c1, users/carol/inbox, true", "carol, c1, users/+/inbox, false"})
    void subscribe(String user, String client, String filter, boolean expected) {
        assertThat(sub(user, client, filter)).isEqualTo(expected);
    }

    @Test
    @DisplayName("%u and %c never let wildcard or '/' characters in names widen a pattern")
    void patternsRefuseWildcardNames() {
        assertThat(pub("x", "#", "devices/#/a")).isFalse();
        assertThat(sub("x", "#", "devices/#")).isFalse();
        assertThat(recv("+", "c", "users/+/inbox")).isFalse();
        assertThat(recv("a/b", "c", "users/a/b/inbox")).isFalse();
        assertThat(pub(null, "c", "users/null/outbox/c")).as("anonymous: no %u").isFalse();
    }

    @Test
    @DisplayName("an empty ACL file denies everything")
    void emptyDeniesAll() {
        AclFile empty = AclFile.parse("empty", List.of("# nothing"));
        assertThat(empty.mayPublish("u", "c", "a")).isFalse();
        assertThat(empty.maySubscribe("u", "c", "#")).isFalse();
        assertThat(empty.mayReceive("u", "c", "a")).isFalse();
    }

    @Test
    @DisplayName("syntax errors name file and line")
    void errors() {
        assertThatThrownBy(() -> AclFile.parse("f", List.of("user a", "topic read a/#/b")))
                .hasMessage("f:2: 'a/#/b' is not a valid topic filter");
        assertThatThrownBy(() -> AclFile.parse("f", List.of("topics read a"))).hasMessageStartingWith("f:1: unknown");
        assertThatThrownBy(() -> AclFile.parse("f", List.of("user"))).hasMessage("f:1: user needs a user name");
    }

    @Test
    @DisplayName("a topic named like an access word is a topic when nothing follows it")
    void accessWordAsTopic() {
        AclFile acl = AclFile.parse("f", List.of("user u", "topic read"));
        assertThat(acl.mayPublish("u", "c", "read")).isTrue();
    }

    @Test
    @DisplayName("the authorizer follows the file as it changes, without a restart")
    void reloads(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("acl");
        Files.writeString(file, "user u\ntopic read a/#\n");
        try (FileWatcher watcher = new FileWatcher(1)) {
            ReloadingFile<AclFile> f = new ReloadingFile<>(file, "ACL file", AclFile::load, watcher);
            AclAuthorizer authorizer = new AclAuthorizer(f);
            ClientIdentity u = ClientIdentity.of("c", "u", null, "127.0.0.1:1", "l");
            assertThat(authorizer.mayReceive(u, "a/x")).isTrue();
            assertThat(authorizer.mayReceive(u, "b/x")).isFalse();
            Files.writeString(file, "user u\ntopic read b/#\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> authorizer.mayReceive(u, "b/x"));
            assertThat(authorizer.mayReceive(u, "a/x")).isFalse();
            assertThat(authorizer.maySubscribe(u, "b/#").toCompletableFuture().join()).isTrue();
            // a broken version keeps the last good one
            Files.writeString(file, "user u\nbogus line\n");
            watcher.checkNow();
            assertThat(authorizer.mayReceive(u, "b/x")).isTrue();
        }
    }
}
