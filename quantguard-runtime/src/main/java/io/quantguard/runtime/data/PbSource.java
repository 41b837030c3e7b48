package io.quantguard.runtime.data;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import io.quantguard.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Serialized ONNX tensors in the layout of ONNX's own model tests: {@code
 * DIR/test_data_set_N/input_K.pb}, one {@code TensorProto} per model input per set (a directory
 * holding {@code input_K.pb} directly is one set). Each set is one or more samples along the first
 * axis; sets are stacked into batches. Inputs are named by the tensor's own name, or {@code
 * input_K} (bound to the K-th model input) when it has none. A set whose inputs do not share a
 * first axis (the two operands of a matrix product, a scalar) is one sample as it stands.
 */
final class PbSource implements DataSource {
  private final String name;
  private final List<Path> sets;

  PbSource(String name, Path dir) {
    this.name = name;
    if (!Files.isDirectory(dir)) {
      throw new InvalidInputException(
          name,
          dir + " is not a directory",
          "point pb: at a folder of test_data_set_N directories");
    }
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> found =
          s.filter(
                  p ->
                      Files.isDirectory(p)
                          && p.getFileName().toString().startsWith("test_data_set_"))
              .sorted((a, b) -> Integer.compare(setNumber(a), setNumber(b)))
              .toList();
      sets = found.isEmpty() && Files.exists(dir.resolve("input_0.pb")) ? List.of(dir) : found;
    } catch (IOException e) {
      throw new InvalidInputException(
          name, "cannot list " + dir + ": " + e.getMessage(), "check the directory", e);
    }
    if (sets.isEmpty()) {
      throw new InvalidInputException(
          name,
          "contains no test_data_set_N/input_K.pb files",
          "use the layout of ONNX's model tests");
    }
  }

  private static int setNumber(Path p) {
    try {
      return Integer.parseInt(p.getFileName().toString().substring("test_data_set_".length()));
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public OptionalLong size() {
    return OptionalLong.empty();
  }

  @Override
  public boolean hasLabels() {
    return false;
  }

  private Map<String, Tensor> readSet(Path set) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int k = 0; ; k++) {
      Path f = set.resolve("input_" + k + ".pb");
      if (!Files.exists(f)) {
        break;
      }
      TensorProto t;
      try (InputStream in = Files.newInputStream(f)) {
        t = TensorProto.parseFrom(in);
      } catch (IOException e) {
        throw new InvalidInputException(
            f.toString(),
            "is not a serialized ONNX TensorProto: " + e.getMessage(),
            "write it with onnx.numpy_helper.from_array(...).SerializeToString()",
            e);
      }
      String key = t.getName().isEmpty() ? "input_" + k : t.getName();
      out.put(key, toTensor(t, f));
    }
    if (out.isEmpty()) {
      throw new InvalidInputException(
          set.toString(), "has no input_0.pb", "each test_data_set_N needs input_K.pb files");
    }
    return out;
  }

  private static Tensor toTensor(TensorProto t, Path f) {
    DataType type = DataType.fromCode(t.getDataType());
    long[] dims = TensorCodec.dims(t);
    try {
      return switch (type) {
        case FLOAT, DOUBLE, FLOAT16, BFLOAT16 ->
            Tensor.ofFloats(TensorCodec.toFloats(t, ExternalData.NONE), dims);
        case INT64 -> Tensor.ofLongs(TensorCodec.toLongs(t, ExternalData.NONE), dims);
        case INT32 ->
            Tensor.ofInts(
                java.util.Arrays.stream(TensorCodec.toLongs(t, ExternalData.NONE))
                    .mapToInt(v -> (int) v)
                    .toArray(),
                dims);
        case INT8, UINT8, BOOL -> {
          long[] v = TensorCodec.toLongs(t, ExternalData.NONE);
          byte[] b = new byte[v.length];
          for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
          }
          yield Tensor.ofBytes(type, b, dims);
        }
        default ->
            throw new InvalidInputException(
                f.toString(),
                "holds " + type.displayName() + " values",
                "QuantGuard feeds float, int64, int32, int8, uint8 and bool inputs");
      };
    } catch (IllegalArgumentException | ArithmeticException e) {
      // A SequenceProto or OptionalProto parses as a TensorProto with nonsense dimensions.
      throw new InvalidInputException(
          f.toString(),
          "is not a tensor QuantGuard can read (" + e.getMessage() + ")",
          "give tensor inputs; sequences, maps and optionals cannot be fed",
          e);
    }
  }

  @Override
  public BatchStream open(int batchSize) {
    return new BatchStream() {
      int nextSet;
      long offset;
      @Nullable Map<String, Tensor> pending;

      @Override
      public boolean hasNext() {
        return pending != null || nextSet < sets.size();
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Map<String, List<Tensor>> parts = new LinkedHashMap<>();
        Set<String> keys = null;
        List<Map<String, String>> attrs = new ArrayList<>();
        int rows = 0;
        while (rows < batchSize && (pending != null || nextSet < sets.size())) {
          Map<String, Tensor> set;
          String source;
          Map<String, Tensor> held = pending;
          if (held != null) {
            set = held;
            pending = null;
            source = sets.get(nextSet - 1).getFileName().toString();
          } else {
            set = readSet(sets.get(nextSet));
            source = sets.get(nextSet).getFileName().toString();
            nextSet++;
          }
          int n = set.values().iterator().next().batchSize();
          if (set.values().stream().anyMatch(t -> t.rank() == 0 || t.batchSize() != n)) {
            // Inputs without a common first axis (a matrix product's two operands): the set is
            // one sample as it stands, neither split nor stacked with others.
            if (rows > 0) {
              pending = set;
              break;
            }
            set.forEach((k, v) -> parts.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            attrs.add(Map.of("file", source));
            rows = batchSize;
            break;
          }
          int take = Math.min(n, batchSize - rows);
          if (keys == null) {
            keys = set.keySet();
          } else if (!keys.equals(set.keySet())) {
            throw new InvalidInputException(
                name,
                "set " + source + " has inputs " + set.keySet() + " but earlier sets have " + keys,
                "give every set the same inputs");
          }
          for (Map.Entry<String, Tensor> e : set.entrySet()) {
            parts
                .computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                .add(e.getValue().slice(0, take));
          }
          if (take < n) {
            Map<String, Tensor> rest = new LinkedHashMap<>();
            set.forEach((k, v) -> rest.put(k, v.slice(take, n)));
            pending = rest;
          }
          for (int i = 0; i < take; i++) {
            attrs.add(Map.of("file", source));
          }
          rows += take;
        }
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        try {
          parts.forEach((k, v) -> inputs.put(k, Tensor.concat(v)));
        } catch (IllegalArgumentException e) {
          throw new InvalidInputException(
              name,
              "sets cannot be stacked into batches: " + e.getMessage(),
              "give every set the same shapes, or use batch size 1",
              e);
        }
        Batch b = new Batch(inputs, null, attrs, offset);
        offset += attrs.size();
        return b;
      }

      @Override
      public void close() {}
    };
  }
}
