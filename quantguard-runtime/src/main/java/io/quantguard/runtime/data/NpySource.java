package io.quantguard.runtime.data;

import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.jspecify.annotations.Nullable;

/**
 * NumPy arrays as model inputs: a directory of {@code .npy} files or one {@code .npz} archive, one
 * array per model input named after the file (entry) without extension; an array named {@code
 * labels} holds integer labels. All arrays share their first axis, the samples. A single {@code
 * .npy} file is one input. Integer arrays can be widened with {@code dtype=int64} for models that
 * take int64.
 */
final class NpySource implements DataSource {
  private final String name;
  private final Path path;
  private final boolean zip;
  private final @Nullable String renamed;
  private final @Nullable DataType widen;
  private final Preprocess preprocess;
  private final boolean normalize;
  private final long rows;
  private final boolean labels;

  NpySource(String name, Path path, boolean zip, DataOptions o) {
    this.name = name;
    this.path = path;
    this.zip = zip;
    this.renamed = o.optional("input");
    String dtype = o.optional("dtype");
    this.widen = dtype == null ? null : DataType.parse(dtype);
    if (widen != null && widen != DataType.INT64 && widen != DataType.FLOAT) {
      throw new InvalidInputException(
          name, "dtype=" + dtype + " is not supported", "use dtype=int64 or dtype=float");
    }
    this.normalize =
        o.numbers("mean") != null || o.numbers("std") != null || o.optional("scale") != null;
    this.preprocess = Preprocess.from(o, 1.0);
    long n = -1;
    boolean hasLabels = false;
    try (Opened arrays = openArrays()) {
      for (NpyArray a : arrays.arrays) {
        if (n >= 0 && a.rows() != n) {
          throw new InvalidInputException(
              name,
              "array '" + a.name + "' has " + a.rows() + " samples, others have " + n,
              "give every input the same number of samples");
        }
        n = a.rows();
        hasLabels |= a.name.equals("labels");
      }
    }
    this.rows = n;
    this.labels = hasLabels;
    if (renamed != null && !zip && Files.isDirectory(path)) {
      throw new InvalidInputException(
          name,
          "input= renames a single array, but this is a directory",
          "name the .npy files after the model inputs instead");
    }
  }

  private final class Opened implements AutoCloseable {
    final List<NpyArray> arrays = new ArrayList<>();
    @Nullable ZipFile zipFile;

    @Override
    public void close() {
      try {
        for (NpyArray a : arrays) {
          a.close();
        }
        if (zipFile != null) {
          zipFile.close();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private Opened openArrays() {
    Opened o = new Opened();
    try {
      if (zip) {
        o.zipFile = new ZipFile(path.toFile());
        List<? extends ZipEntry> entries =
            o.zipFile.stream()
                .filter(e -> e.getName().endsWith(".npy"))
                .sorted((a, b) -> a.getName().compareTo(b.getName()))
                .toList();
        for (ZipEntry e : entries) {
          InputStream in = new BufferedInputStream(o.zipFile.getInputStream(e), 1 << 16);
          o.arrays.add(new NpyArray(stem(e.getName()), in));
        }
      } else if (Files.isDirectory(path)) {
        try (Stream<Path> s = Files.list(path)) {
          for (Path p : s.filter(p -> p.toString().endsWith(".npy")).sorted().toList()) {
            o.arrays.add(
                new NpyArray(
                    stem(p.getFileName().toString()),
                    new BufferedInputStream(Files.newInputStream(p), 1 << 16)));
          }
        }
      } else {
        String stem = renamed != null ? renamed : "input_0";
        o.arrays.add(
            new NpyArray(stem, new BufferedInputStream(Files.newInputStream(path), 1 << 16)));
      }
    } catch (IOException e) {
      o.close();
      throw new InvalidInputException(
          name, "cannot be read: " + e.getMessage(), "check the files", e);
    } catch (RuntimeException e) {
      o.close();
      throw e;
    }
    if (o.arrays.isEmpty()) {
      o.close();
      throw new InvalidInputException(
          name,
          "holds no .npy arrays",
          "point at a .npz file, a .npy file or a directory of .npy files");
    }
    return o;
  }

  private static String stem(String file) {
    String f = file.contains("/") ? file.substring(file.lastIndexOf('/') + 1) : file;
    return f.endsWith(".npy") ? f.substring(0, f.length() - 4) : f;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public OptionalLong size() {
    return OptionalLong.of(rows);
  }

  @Override
  public boolean hasLabels() {
    return labels;
  }

  @Override
  public BatchStream open(int batchSize) {
    Opened o = openArrays();
    return new BatchStream() {
      long next;

      @Override
      public boolean hasNext() {
        return next < rows;
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int n = (int) Math.min(batchSize, rows - next);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        long @Nullable [] y = null;
        try {
          for (NpyArray a : o.arrays) {
            Tensor t = a.read(n);
            if (a.name.equals("labels")) {
              y = new long[n];
              for (int i = 0; i < n; i++) {
                y[i] = (long) t.get(i);
              }
            } else {
              String key = renamed != null && o.arrays.size() == 1 ? renamed : a.name;
              inputs.put(key, adjust(t));
            }
          }
        } catch (IOException e) {
          throw new InvalidInputException(
              name, "read failed: " + e.getMessage(), "check the files", e);
        }
        if (inputs.isEmpty()) {
          throw new InvalidInputException(
              name, "holds only labels", "add the model inputs as arrays");
        }
        Batch b = new Batch(inputs, y, List.of(), next);
        next += n;
        return b;
      }

      @Override
      public void close() {
        o.close();
      }
    };
  }

  private Tensor adjust(Tensor t) {
    Tensor out = t;
    if (widen == DataType.INT64 && t.type() != DataType.INT64 && t.type() != DataType.FLOAT) {
      long[] l = new long[(int) t.elementCount()];
      for (int i = 0; i < l.length; i++) {
        l[i] = (long) t.get(i);
      }
      out = Tensor.ofLongs(l, t.shape());
    } else if (widen == DataType.FLOAT && t.type() != DataType.FLOAT) {
      out = Tensor.ofFloats(t.toFloats().clone(), t.shape());
    }
    if (normalize && out.type() == DataType.FLOAT) {
      long[] s = out.shape();
      int channels = s.length == 4 ? (int) s[1] : 1;
      int pixels = (int) (out.elementCount() / Math.max(1, s[0]) / channels);
      float[] x = out.floats().clone();
      preprocess.normalize(x, channels, pixels);
      out = Tensor.ofFloats(x, s);
    }
    return out;
  }
}
