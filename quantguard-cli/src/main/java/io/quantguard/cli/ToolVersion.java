package io.quantguard.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** QuantGuard's version, recorded in every artifact and report so runs can be reproduced. */
final class ToolVersion implements CommandLine.IVersionProvider {
  static String get() {
    Properties p = new Properties();
    try (InputStream in = ToolVersion.class.getResourceAsStream("/quantguard.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "unknown";
    }
    return p.getProperty("version", "unknown");
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "quantguard " + get(),
      "ONNX Runtime " + io.quantguard.runtime.InferenceSession.runtimeVersion(),
      "Java "
          + System.getProperty("java.version")
          + " on "
          + System.getProperty("os.name")
          + " "
          + System.getProperty("os.arch")
    };
  }
}
