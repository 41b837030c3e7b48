package io.quantguard.report;

import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256, the one hash QuantGuard names things by (model blobs, recipes, policy texts, data,
 * tuning inputs), always written as 64 lower-case hex digits.
 */
public final class Sha256 {
  private Sha256() {}

  /** A fresh digest, for input that arrives in parts (streams, records of several fields). */
  public static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** The hex of what {@code digest} has taken (which resets it). */
  public static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  public static String of(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  /** The hash of the text's UTF-8 bytes. */
  public static String of(String text) {
    return of(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The hash of a file's bytes, streamed.
   *
   * @throws InvalidInputException when the file cannot be read (the message names it)
   */
  public static String of(Path file) {
    MessageDigest md = digest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
      in.transferTo(OutputStream.nullOutputStream());
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be read: " + e.getMessage(), "check the path", e);
    }
    return hex(md);
  }
}
