package io.quantguard.serve;

import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.UnauthorizedResponse;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Guards the endpoints that change what the server does (model load and unload here; rollout
 * actions later): a request passes only with {@code Authorization: Bearer TOKEN}. Use it as a
 * Javalin {@code before} handler or call {@link #handle} first in a handler; it answers 401 and the
 * handler never runs.
 *
 * <p>The token is compared in constant time: both sides are hashed with SHA-256 and the digests
 * compared with {@link MessageDigest#isEqual}, so neither the position of the first wrong byte nor
 * the token's length shows in the response time. A server started without a token refuses every
 * guarded request.
 */
public final class BearerTokenGuard implements Handler {
  private final byte @Nullable [] digest;

  private BearerTokenGuard(byte @Nullable [] digest) {
    this.digest = digest;
  }

  /** No token: every guarded request is refused. */
  public static BearerTokenGuard none() {
    return new BearerTokenGuard(null);
  }

  /** Requires {@code token} (surrounding white space is not part of it). */
  public static BearerTokenGuard of(String token) {
    String t = token.strip();
    if (t.isEmpty() || t.chars().anyMatch(Character::isWhitespace)) {
      throw new InvalidInputException(
          "the server token",
          "is empty or contains white space",
          "use a random string, e.g. from openssl rand -hex 32");
    }
    return new BearerTokenGuard(sha256(t));
  }

  /**
   * The token from {@code file} when given, else from {@code environmentValue} (the {@code
   * QUANTGUARD_TOKEN} variable) when set, else none.
   */
  public static BearerTokenGuard from(@Nullable Path file, @Nullable String environmentValue) {
    if (file != null) {
      try {
        return of(Files.readString(file, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw InvalidInputException.forParameter(
            "server.tokenFile",
            file,
            "cannot be read: " + e.getMessage(),
            "give a readable file",
            e);
      }
    }
    if (environmentValue != null && !environmentValue.isBlank()) {
      return of(environmentValue);
    }
    return none();
  }

  /** True when a token is set, so guarded requests can pass at all. */
  public boolean configured() {
    return digest != null;
  }

  /** Whether an {@code Authorization} header value carries the token. */
  public boolean permits(String authorization) {
    if (digest == null || authorization == null) {
      return false;
    }
    String prefix = "bearer ";
    if (authorization.length() <= prefix.length()
        || !authorization.substring(0, prefix.length()).toLowerCase(Locale.ROOT).equals(prefix)) {
      return false;
    }
    return MessageDigest.isEqual(digest, sha256(authorization.substring(prefix.length()).strip()));
  }

  /** Throws 401 unless the request carries the token. */
  @Override
  public void handle(Context ctx) {
    if (!permits(ctx.header("Authorization"))) {
      ctx.header("WWW-Authenticate", "Bearer realm=\"quantguard\"");
      throw new UnauthorizedResponse(
          configured()
              ? "this endpoint needs Authorization: Bearer TOKEN with the server's token"
              : "this server was started without a token, so it refuses every state-changing"
                  + " request");
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
