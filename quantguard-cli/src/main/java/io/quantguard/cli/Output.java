package io.quantguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.Locale;

/** Prints results as text for people or as JSON ({@code --json}) for scripts. */
public final class Output {
  public static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Output() {}

  public static void json(PrintWriter out, Object value) {
    try {
      out.println(JSON.writeValueAsString(value));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot print JSON", e);
    }
  }

  /** JSON text as a tree to embed in other JSON; text that is not JSON stays a string. */
  public static Object tree(String json) {
    try {
      return JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return json;
    }
  }

  /** 1234567 → "1.23 MB" (decimal units, as file managers show sizes). */
  public static String bytes(long n) {
    return io.quantguard.report.ByteUnits.format(n);
  }

  public static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
