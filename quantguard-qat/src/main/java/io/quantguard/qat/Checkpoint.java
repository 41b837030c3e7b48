package io.quantguard.qat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A fine-tune's state on disk, enough to continue it exactly: every trained array, the optimizer's
 * moments, the best values so far when validating, and where the run stood. One file, written to a
 * temporary name and moved over the old one, so a run killed while writing leaves the previous
 * checkpoint whole.
 *
 * @param arrays trained values ({@code p:NAME}), step sizes ({@code s:ANCHOR}), moments ({@code
 *     m:}/{@code v:}) and best values ({@code best:p:NAME}, ...)
 * @param position where the run stood
 */
record Checkpoint(Map<String, NDArray> arrays, Position position) {
  static final String FILE = "checkpoint.qg";

  /**
   * Where a run stood: steps taken, the epoch and the batches of it taken, the losses so far, the
   * optimizer's update count, the best validation loss and its step, the evaluations since it, and
   * the settings the run was started with (a resume must use the same).
   */
  record Position(
      long steps,
      int epoch,
      long batchesInEpoch,
      List<Double> losses,
      long updates,
      double bestValidation,
      long bestStep,
      int evaluationsSinceBest,
      String settings) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Writes the checkpoint into {@code dir} (created when missing). */
  void write(Path dir) {
    try {
      Files.createDirectories(dir);
      List<String> names = new ArrayList<>(arrays.keySet());
      byte[] header = JSON.writeValueAsBytes(Map.of("names", names, "position", position));
      byte[] body = new NDList(arrays.values()).encode();
      Path tmp = Files.createTempFile(dir, FILE, ".tmp");
      try (var out = new java.io.DataOutputStream(Files.newOutputStream(tmp))) {
        out.writeInt(header.length);
        out.write(header);
        out.write(body);
      }
      try {
        Files.move(
            tmp,
            dir.resolve(FILE),
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the checkpoint in " + dir, e);
    }
  }

  /** The checkpoint in {@code dir}, its arrays in {@code manager}; null when there is none. */
  static @org.jspecify.annotations.Nullable Checkpoint read(Path dir, NDManager manager) {
    Path file = dir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try (var in = new java.io.DataInputStream(Files.newInputStream(file))) {
      byte[] header = new byte[in.readInt()];
      in.readFully(header);
      var tree = JSON.readTree(header);
      Position position = JSON.treeToValue(tree.get("position"), Position.class);
      NDList list = NDList.decode(manager, in.readAllBytes());
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      var names = tree.get("names");
      if (names.size() != list.size()) {
        throw new IOException(names.size() + " names for " + list.size() + " arrays");
      }
      for (int i = 0; i < list.size(); i++) {
        arrays.put(names.get(i).asText(), list.get(i));
      }
      return new Checkpoint(arrays, position);
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          file.toString(),
          "is not a readable checkpoint (" + e.getMessage() + ")",
          "delete it to start the run afresh, or point the checkpoints at another folder");
    }
  }
}
