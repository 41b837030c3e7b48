package io.quantguard.runtime;

/**
 * A run or lease was refused because its session is closing or closed. It is thrown before anything
 * ran, so the caller may retry the same request on another session (what {@link SessionHolder} does
 * after a swap).
 */
public final class SessionClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public SessionClosedException(String message) {
    super(message);
  }
}
