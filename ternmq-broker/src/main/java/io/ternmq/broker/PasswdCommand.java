package io.ternmq.broker;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.security.ScramCredentials;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ternmq passwd}: manages password files the way {@code mosquitto_passwd} does, in the same format (files
 * move between the two brokers), with a higher default cost and optional SCRAM-SHA-256 credentials.
 */
@Command(name = "passwd", mixinStandardHelpOptions = true,
        description = {"Manage a password file (Mosquitto's format; mosquitto_passwd's options).", "",
                "  passwd [-c|-D] FILE USER        add, update or delete a user (asks twice)",
                "  passwd [-c] -b FILE USER PASS   the same, password on the command line",
                "  passwd -U FILE                  hash a plain text user:password file",
                "  passwd -l FILE                  list the users", ""},
        sortOptions = false)
final class PasswdCommand implements Callable<Integer> {

    @Option(names = "-c", description = "create a new password file; an existing one is overwritten")
    boolean create;

    @Option(names = "-D", description = "delete the user instead of adding or updating it")
    boolean delete;

    @Option(names = "-b", description = "batch mode: take the password from the command line")
    boolean batch;

    @Option(names = "-U", description = "update a plain text password file (user:password lines) to hashed passwords")
    boolean upgrade;

    @Option(names = {"-l", "--list"}, description = "list the users (and whether they have SCRAM credentials)")
    boolean list;

    @Option(names = "-I", paramLabel = "ITERATIONS",
            description = "PBKDF2-SHA512 iterations (default ${DEFAULT-VALUE}, at least 1000)")
    int iterations = PasswordHash.DEFAULT_ITERATIONS;

    @Option(names = "--scram", description = "also store SCRAM-SHA-256 credentials, for MQTT 5 enhanced "
            + "authentication; without it, an update removes the user's SCRAM credentials")
    boolean scram;

    @Option(names = "--scram-iterations", paramLabel = "ITERATIONS",
            description = "PBKDF2-SHA256 iterations of the SCRAM credentials (default ${DEFAULT-VALUE}, at least 4096)")
    int scramIterations = ScramCredentials.DEFAULT_ITERATIONS;

    @Parameters(index = "0", paramLabel = "passwordfile")
    Path file;

    @Parameters(index = "1..*", arity = "0..2", paramLabel = "username [password]")
    List<String> rest = new ArrayList<>();

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    PasswdCommand() {
        this(System.in, System.out, System.err);
    }

    PasswdCommand(InputStream in, PrintStream out, PrintStream err) {
        this.in = in;
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        try {
            return run();
        } catch (UsageError e) {
            err.println("ternmq passwd: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("ternmq passwd: " + file + ": " + (e instanceof NoSuchFileException ? "no such file"
                    : e.getMessage()));
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("ternmq passwd: " + e.getMessage());
            return 1;
        }
    }

    private static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    private int run() throws IOException {
        if ((create ? 1 : 0) + (delete ? 1 : 0) + (upgrade ? 1 : 0) + (list ? 1 : 0) > 1) {
            throw new UsageError("-c, -D, -U and -l exclude each other");
        }
        if (iterations < PasswordHash.MIN_ITERATIONS) {
            throw new UsageError("-I must be at least " + PasswordHash.MIN_ITERATIONS);
        }
        if (scramIterations < ScramCredentials.MIN_ITERATIONS) {
            throw new UsageError("--scram-iterations must be at least " + ScramCredentials.MIN_ITERATIONS);
        }
        if (upgrade || list) {
            if (!rest.isEmpty()) {
                throw new UsageError((upgrade ? "-U" : "-l") + " takes only the password file");
            }
            return upgrade ? upgradePlainText() : listUsers();
        }
        if (rest.isEmpty()) {
            throw new UsageError("missing username");
        }
        String user = rest.get(0);
        if (user.isEmpty() || user.contains(":")) {
            throw new UsageError("a user name may not be empty or contain ':'");
        }
        if (delete) {
            if (rest.size() > 1 || batch) {
                throw new UsageError("-D takes the password file and a user name");
            }
            PasswordFile pf = PasswordFile.load(file);
            if (!pf.remove(user)) {
                err.println("ternmq passwd: user " + user + " is not in " + file);
                return 1;
            }
            pf.save(file);
            return 0;
        }
        char[] password;
        if (batch) {
            if (rest.size() != 2) {
                throw new UsageError("-b needs the password file, a user name and a password");
            }
            password = rest.get(1).toCharArray();
        } else {
            if (rest.size() != 1) {
                throw new UsageError("a password on the command line needs -b");
            }
            password = prompt();
            if (password == null) {
                return 1;
            }
        }
        try {
            PasswordFile pf = create || !Files.exists(file) ? PasswordFile.empty() : PasswordFile.load(file);
            if (!create && !Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            boolean hadScram = pf.contains(user) && pf.get(user).scram() != null;
            pf.put(entry(user, password));
            pf.save(file);
            if (hadScram && !scram) {
                err.println("ternmq passwd: note: the SCRAM credentials of " + user + " were removed (use --scram to "
                        + "keep SCRAM-SHA-256 working)");
            }
            return 0;
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private PasswordFile.Entry entry(String user, char[] password) {
        String hash = PasswordHash.hash(password, iterations);
        ScramCredentials sc = scram ? ScramCredentials.derive(password, scramIterations) : null;
        return new PasswordFile.Entry(user, hash, sc);
    }

    /** Asks twice, on the terminal without echo, or reading two lines of standard input when there is none. */
    private char[] prompt() throws IOException {
        Console console = in == System.in ? System.console() : null;
        char[] first;
        char[] second;
        if (console != null) {
            first = console.readPassword("Password: ");
            second = first == null ? null : console.readPassword("Reenter password: ");
        } else {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String a = r.readLine();
            String b = a == null ? null : r.readLine();
            first = a == null ? null : a.toCharArray();
            second = b == null ? null : b.toCharArray();
        }
        if (first == null || second == null) {
            err.println("ternmq passwd: no password given");
            return null;
        }
        boolean same = Arrays.equals(first, second);
        Arrays.fill(second, '\0');
        if (!same) {
            Arrays.fill(first, '\0');
            err.println("ternmq passwd: passwords do not match");
            return null;
        }
        if (first.length == 0) {
            err.println("ternmq passwd: empty password");
            return null;
        }
        return first;
    }

    private int listUsers() throws IOException {
        PasswordFile pf = PasswordFile.load(file);
        for (PasswordFile.Entry e : pf.users().values()) {
            out.println(e.username() + (e.scram() != null ? " (scram-sha-256)" : "")
                    + (PasswordHash.isWeak(e.hash()) ? " (weak hash: update it)" : ""));
        }
        return 0;
    }

    private int upgradePlainText() throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        for (String raw : lines) {
            String line = raw.strip();
            int colon = line.indexOf(':');
            if (line.isEmpty() || line.startsWith("#") || colon <= 0) {
                out.add(raw);
                continue;
            }
            String rest = line.substring(colon + 1);
            String first = rest.indexOf(':') >= 0 ? rest.substring(0, rest.indexOf(':')) : rest;
            if (PasswordHash.isSupported(first)) {
                out.add(raw); // hashed already
                continue;
            }
            char[] password = rest.toCharArray();
            try {
                PasswordFile.Entry e = entry(line.substring(0, colon), password);
                out.add(e.username() + ":" + e.hash() + (e.scram() == null ? "" : ":" + e.scram().encode()));
            } finally {
                Arrays.fill(password, '\0');
            }
        }
        PasswordFile.parse(file.toString(), out).save(file);
        return 0;
    }
}
