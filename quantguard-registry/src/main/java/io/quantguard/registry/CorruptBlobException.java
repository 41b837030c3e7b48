package io.quantguard.registry;

import io.quantguard.onnx.InvalidInputException;
import org.jspecify.annotations.Nullable;

/**
 * A stored blob is missing or its bytes no longer hash to its address: the file was edited,
 * truncated or damaged on disk. The registry refuses to serve it rather than hand out a model that
 * is not the one that was registered.
 */
public final class CorruptBlobException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  public CorruptBlobException(String input, String problem, @Nullable String fix) {
    super(input, problem, fix);
  }
}
