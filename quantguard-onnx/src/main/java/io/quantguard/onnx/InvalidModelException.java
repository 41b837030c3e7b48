package io.quantguard.onnx;

/** A model file that is not a usable ONNX model: empty, truncated, malformed or inconsistent. */
public class InvalidModelException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  public InvalidModelException(String model, String problem, String fix) {
    super(model, problem, fix);
  }

  public InvalidModelException(String model, String problem, String fix, Throwable cause) {
    super(model, problem, fix, cause);
  }
}
