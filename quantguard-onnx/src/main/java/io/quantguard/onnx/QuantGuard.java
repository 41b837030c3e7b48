package io.quantguard.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * QuantGuard itself: the version recorded in every quantized model, report and registry entry, so
 * that a run can be traced to the code that made it. The version comes from the build (the POM's
 * version, filtered into {@code quantguard.properties}); nobody edits it by hand.
 */
public final class QuantGuard {
  /** This build's version, e.g. {@code 0.1.0-SNAPSHOT}. */
  public static final String VERSION = readVersion();

  private QuantGuard() {}

  private static String readVersion() {
    Properties p = new Properties();
    try (InputStream in = QuantGuard.class.getResourceAsStream("quantguard.properties")) {
      if (in == null) {
        throw new IllegalStateException("quantguard.properties is missing from quantguard-onnx");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.getProperty("version");
  }
}
