package io.quantguard.serve;

/**
 * A request the server answers with an Open Inference Protocol error, {@code {"error": message}},
 * and an HTTP status: 400 for a request the model cannot take, 404 for an unknown model or version,
 * 413, 415, 429 (with {@code Retry-After}), 503. The message names the input and what the model
 * wants, so a client can fix the request without reading server logs.
 */
final class OipException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  OipException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }

  static OipException badRequest(String message) {
    return new OipException(400, message);
  }

  static OipException notFound(String message) {
    return new OipException(404, message);
  }

  static OipException unavailable(String message) {
    return new OipException(503, message);
  }
}
