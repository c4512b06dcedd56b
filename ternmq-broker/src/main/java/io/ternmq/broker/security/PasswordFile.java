package io.ternmq.broker.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A password file: one {@code username:hash} line per user, Mosquitto's format (see {@link PasswordHash}), optionally
 * followed by {@code :SCRAM-SHA-256$...} SCRAM credentials for users that may use MQTT 5 enhanced authentication
 * ({@link ScramCredentials}). {@code #} comment lines and blank lines are kept as they are when the file is rewritten.
 * User names may not contain ':'. Not thread-safe while being edited; a loaded instance that is no longer edited can
 * be shared.
 */
public final class PasswordFile {

    /** One user: the login hash and, when enabled, SCRAM credentials. */
    public record Entry(String username, String hash, ScramCredentials scram) {
        String line() {
            return username + ":" + hash + (scram == null ? "" : ":" + scram.encode());
        }
    }

    /** Each line: a String (comment or blank, kept verbatim) or an Entry. */
    private final List<Object> lines;
    private final Map<String, Entry> users;

    private PasswordFile(List<Object> lines) {
        this.lines = lines;
        this.users = new LinkedHashMap<>();
        for (Object l : lines) {
            if (l instanceof Entry e) {
                users.put(e.username(), e);
            }
        }
    }

    public static PasswordFile empty() {
        return new PasswordFile(new ArrayList<>());
    }

    /**
     * Reads a file.
     *
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException naming the line, if a line is not {@code user:hash[:scram]} with a known hash
     */
    public static PasswordFile load(Path file) throws IOException {
        return parse(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    public static PasswordFile parse(String source, List<String> text) {
        List<Object> lines = new ArrayList<>();
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < text.size(); i++) {
            String raw = text.get(i);
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                lines.add(raw);
                continue;
            }
            String where = source + ":" + (i + 1) + ": ";
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(where + "expected 'username:hash'");
            }
            String user = line.substring(0, colon);
            String rest = line.substring(colon + 1);
            String hash = rest;
            ScramCredentials scram = null;
            int second = rest.indexOf(':');
            if (second >= 0) {
                hash = rest.substring(0, second);
                try {
                    scram = ScramCredentials.parse(rest.substring(second + 1));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + "user '" + user + "': " + e.getMessage());
                }
            }
            if (!PasswordHash.isSupported(hash)) {
                throw new IllegalArgumentException(where + "user '" + user + "': the password is not hashed in a "
                        + "known format ($7$ PBKDF2-SHA512 or $6$ SHA-512); plain text files can be converted "
                        + "with 'ternmq passwd -U'");
            }
            Integer before = seen.put(user, i + 1);
            if (before != null) {
                throw new IllegalArgumentException(where + "user '" + user + "' also on line " + before);
            }
            lines.add(new Entry(user, hash, scram));
        }
        return new PasswordFile(lines);
    }

    /**
     * Reads a Mosquitto plain text file ({@code user:password} lines) for {@code -U}: every line that is not already
     * hashed is returned as user and password.
     */
    static List<String[]> plainTextLines(List<String> text) {
        List<String[]> plain = new ArrayList<>();
        for (String raw : text) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String rest = line.substring(colon + 1);
            String firstField = rest.indexOf(':') >= 0 ? rest.substring(0, rest.indexOf(':')) : rest;
            if (!PasswordHash.isSupported(firstField)) {
                plain.add(new String[] {line.substring(0, colon), rest});
            }
        }
        return plain;
    }

    public Entry get(String username) {
        return users.get(username);
    }

    public Map<String, Entry> users() {
        return Collections.unmodifiableMap(users);
    }

    public boolean contains(String username) {
        return users.containsKey(username);
    }

    /** Adds the user, or replaces its line in place. */
    public void put(Entry entry) {
        if (entry.username().isEmpty() || entry.username().indexOf(':') >= 0
                || entry.username().chars().anyMatch(c -> c == '\n' || c == '\r')) {
            throw new IllegalArgumentException("user names may not be empty or contain ':' or line breaks");
        }
        Entry old = users.put(entry.username(), entry);
        if (old == null) {
            lines.add(entry);
        } else {
            lines.set(lines.indexOf(old), entry);
        }
    }

    /** @return whether the user was there */
    public boolean remove(String username) {
        Entry old = users.remove(username);
        if (old == null) {
            return false;
        }
        lines.remove(old);
        return true;
    }

    public List<String> toLines() {
        List<String> out = new ArrayList<>();
        for (Object l : lines) {
            out.add(l instanceof Entry e ? e.line() : (String) l);
        }
        return out;
    }

    /**
     * Writes the file atomically (a temporary file in the same directory, then a rename), readable by its owner only
     * when created; an existing file keeps its permissions.
     */
    public void save(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        try {
            Set<PosixFilePermission> perms = null;
            try {
                perms = Files.exists(file) ? Files.getPosixFilePermissions(file)
                        : PosixFilePermissions.fromString("rw-------");
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            if (perms != null) {
                Files.setPosixFilePermissions(tmp, perms);
            }
            Files.write(tmp, toLines(), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
