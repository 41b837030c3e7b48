package io.quantguard.evaluate.task;

/** One embedding vector per row, row-major {@code [rows, dim]}. */
public record Embeddings(float[] vectors, int rows, int dim) {
  /** Offset of row {@code r}'s first element. */
  public int at(int r) {
    return r * dim;
  }
}
