package io.quantguard.onnx;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded mutations for fuzz tests: of binary files (bytes flipped, truncated, cut, duplicated,
 * replaced by noise) and of text files such as recipes, policies and data (characters, lines and
 * values replaced with the kinds of wrong a person or a broken tool writes). How many rounds a fuzz
 * test runs: {@code -Dquantguard.fuzz.rounds=N} (a nightly-size run is 100,000), else its default.
 */
public final class Mutations {
  /** Values that break parsers and validators: empty, huge, negative, non-finite, wrong types. */
  private static final String[] HOSTILE = {
    "",
    "0",
    "-1",
    "1e309",
    "-1e309",
    "NaN",
    ".nan",
    "-.inf",
    "999999999999999999999",
    "null",
    "~",
    "true",
    "[]",
    "{}",
    "[1, [2]]",
    "\"\"",
    "'",
    "\"",
    ":",
    "- x",
    "&a",
    "*a",
    "!!binary x",
    "%",
    "50%",
    "-5%",
    "1.5%",
    "\u0000",
    "\uFFFF",
    "é",
    "x".repeat(10_000),
    "0x10",
    "1_000",
    "static",
    "dynamic",
    "int3",
    "uint4",
    "fp16",
    "max_drop",
    "min",
    "max_ratio",
    "{max: }"
  };

  /** Characters that mean something to YAML, JSON and number parsers. */
  private static final String SPECIAL = "{}[],:-#'\"&*! \t0123456789xé";

  private Mutations() {}

  /** The number of rounds a fuzz test runs. */
  public static int rounds(int defaultRounds) {
    return Integer.getInteger("quantguard.fuzz.rounds", defaultRounds);
  }

  /** One mutation of a binary file. */
  public static byte[] bytes(byte[] seed, Random r) {
    byte[] b;
    switch (r.nextInt(6)) {
      case 0 -> { // flip a few bytes in the structural head of the file
        b = seed.clone();
        for (int k = 0, n = 1 + r.nextInt(8); k < n; k++) {
          int at = r.nextInt(Math.min(b.length, 4096));
          b[at] = (byte) r.nextInt(256);
        }
      }
      case 1 -> { // flip bits anywhere
        b = seed.clone();
        for (int k = 0, n = 1 + r.nextInt(32); k < n; k++) {
          b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 2 -> b = Arrays.copyOf(seed, r.nextInt(seed.length)); // truncate
      case 3 -> { // random bytes of random length
        b = new byte[r.nextInt(2048)];
        r.nextBytes(b);
      }
      case 4 -> { // cut out a slice
        int from = r.nextInt(seed.length);
        int len = Math.min(seed.length - from, 1 + r.nextInt(512));
        b = new byte[seed.length - len];
        System.arraycopy(seed, 0, b, 0, from);
        System.arraycopy(seed, from + len, b, from, seed.length - from - len);
      }
      default -> { // duplicate a slice of the head
        int from = r.nextInt(Math.min(seed.length, 2048));
        int len = Math.min(1 + r.nextInt(256), seed.length - from);
        b = new byte[seed.length + len];
        System.arraycopy(seed, 0, b, 0, from + len);
        System.arraycopy(seed, from, b, from + len, seed.length - from);
      }
    }
    return b;
  }

  /** One to three mutations of a text file. */
  public static String text(String seed, Random r) {
    String s = seed;
    for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) {
      s = once(s, r);
    }
    return s;
  }

  private static String once(String s, Random r) {
    List<String> lines = new ArrayList<>(Arrays.asList(s.split("\n", -1)));
    int line = r.nextInt(lines.size());
    String l = lines.get(line);
    switch (r.nextInt(8)) {
      case 0 -> { // replace a value (what follows a colon, or a list item) with a hostile one
        int colon = l.indexOf(':');
        String v = HOSTILE[r.nextInt(HOSTILE.length)];
        lines.set(line, colon >= 0 ? l.substring(0, colon + 1) + " " + v : l + v);
      }
      case 1 -> lines.remove(line); // drop a line
      case 2 -> lines.add(line, l); // duplicate a line (duplicate keys)
      case 3 -> { // change the indentation
        lines.set(line, r.nextBoolean() ? "  " + l : l.stripLeading());
      }
      case 4 -> { // replace a character
        if (!l.isEmpty()) {
          int at = r.nextInt(l.length());
          char c = SPECIAL.charAt(r.nextInt(SPECIAL.length()));
          lines.set(line, l.substring(0, at) + c + l.substring(at + 1));
        }
      }
      case 5 -> { // swap two lines
        int other = r.nextInt(lines.size());
        lines.set(line, lines.get(other));
        lines.set(other, l);
      }
      case 6 -> { // truncate the text
        byte[] b = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
        return new String(Arrays.copyOf(b, r.nextInt(b.length + 1)), StandardCharsets.UTF_8);
      }
      default -> { // rename a key
        int colon = l.indexOf(':');
        if (colon > 0) {
          lines.set(line, l.substring(0, colon) + "x" + l.substring(colon));
        }
      }
    }
    return String.join("\n", lines);
  }
}
