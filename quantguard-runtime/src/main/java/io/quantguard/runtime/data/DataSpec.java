package io.quantguard.runtime.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.Tensor;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * Parses the one-string data specs users type on the command line into {@link DataSource}s:
 *
 * <pre>
 * idx:PATH[?labels=PATH&amp;scale=1/255&amp;mean=..&amp;std=..&amp;layout=nchw|nhwc|flat&amp;input=NAME]
 * npy:DIR | npy:FILE.npy | npz:FILE.npz   [?input=NAME&amp;dtype=int64&amp;scale=..]
 * pb:DIR                                  (test_data_set_N/input_K.pb)
 * text:FILE?tokenizer=PATH[&amp;max_length=128&amp;padding=longest|max_length&amp;field=F&amp;column=N&amp;label_field=F]
 * &#64;dataset.yaml                           (format:, path:, and the same options as keys)
 * </pre>
 *
 * Every spec also takes {@code offset=K} and {@code limit=N} to select samples. Paths may be {@code
 * maven:group:artifact:version!/entry} (see {@link ResourceLocator}). Every float input is checked
 * for NaN and infinity as it streams.
 */
public final class DataSpec {
  private DataSpec() {}

  public static DataSource parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new InvalidInputException(
          "data spec", "is empty", "write e.g. idx:train-images-idx3-ubyte.gz");
    }
    String format;
    String path;
    Map<String, Object> options = new LinkedHashMap<>();
    if (spec.startsWith("@")) {
      Path yaml = ResourceLocator.resolve(spec.substring(1));
      Map<String, Object> doc = readYaml(spec, yaml);
      format = String.valueOf(doc.remove("format"));
      Object p = doc.remove("path");
      if (p == null || "null".equals(format)) {
        throw new InvalidInputException(
            spec, "needs the keys format: and path:", "see the README's data spec section");
      }
      // an absolute path of a readable file has a parent directory
      Path base = Objects.requireNonNull(yaml.toAbsolutePath().getParent());
      path =
          p.toString().startsWith("maven:") ? p.toString() : base.resolve(p.toString()).toString();
      doc.forEach((k, v) -> options.put(k, v));
      if (options.get("tokenizer") instanceof String t
          && !t.startsWith("maven:")
          && !t.startsWith("classpath:")) {
        options.put("tokenizer", base.resolve(t).toString());
      }
    } else {
      int colon = spec.indexOf(':');
      if (colon <= 0) {
        throw new InvalidInputException(
            spec,
            "has no format prefix",
            "write FORMAT:PATH with FORMAT one of idx, npy, npz, pb, text, or @dataset.yaml");
      }
      format = spec.substring(0, colon);
      String rest = spec.substring(colon + 1);
      int q = rest.indexOf('?');
      path = q < 0 ? rest : rest.substring(0, q);
      if (q >= 0) {
        for (String kv : rest.substring(q + 1).split("&")) {
          if (kv.isEmpty()) {
            continue;
          }
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new InvalidInputException(
                spec, "option '" + kv + "' has no value", "write key=value");
          }
          options.put(
              kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
    }
    DataOptions o = new DataOptions(spec, options);
    int offset = o.integer("offset", 0);
    int limit = o.integer("limit", -1);
    DataSource source =
        switch (format.toLowerCase(Locale.ROOT)) {
          case "idx" -> new IdxSource(spec, ResourceLocator.resolve(path), o);
          case "npy" -> new NpySource(spec, ResourceLocator.resolve(path), false, o);
          case "npz" -> new NpySource(spec, ResourceLocator.resolve(path), true, o);
          case "pb" -> new PbSource(spec, ResourceLocator.resolve(path));
          case "text" -> new TextSource(spec, ResourceLocator.resolve(path), o);
          default ->
              throw new InvalidInputException(
                  spec, "unknown data format '" + format + "'", "use idx, npy, npz, pb or text");
        };
    o.rejectUnknown();
    if (offset < 0 || limit < -1) {
      throw new InvalidInputException(
          spec, "offset and limit must not be negative", "fix the numbers");
    }
    return new Checked(source, offset, limit);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readYaml(String spec, Path yaml) {
    try {
      Object doc =
          new ObjectMapper(new YAMLFactory()).readValue(Files.readAllBytes(yaml), Object.class);
      if (!(doc instanceof Map<?, ?> m)) {
        throw new InvalidInputException(
            spec, "is not a YAML mapping", "write keys such as format: and path:");
      }
      return new LinkedHashMap<>((Map<String, Object>) m);
    } catch (IOException e) {
      throw new InvalidInputException(
          spec, "is not valid YAML: " + e.getMessage(), "fix the file", e);
    }
  }

  /**
   * Applies offset/limit (-1: none), re-cuts batches to the size asked for, and rejects non-finite
   * floats, naming the sample.
   */
  static final class Checked implements DataSource {
    private final DataSource inner;
    private final int offset;
    private final int limit;

    Checked(DataSource inner, int offset, int limit) {
      this.inner = inner;
      this.offset = offset;
      this.limit = limit;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public OptionalLong size() {
      OptionalLong n = inner.size();
      if (n.isEmpty()) {
        return limit >= 0 && offset == 0 ? OptionalLong.empty() : n;
      }
      long left = Math.max(0, n.getAsLong() - offset);
      return OptionalLong.of(limit >= 0 ? Math.min(left, limit) : left);
    }

    @Override
    public boolean hasLabels() {
      return inner.hasLabels();
    }

    @Override
    public BatchStream open(int batchSize) {
      if (batchSize <= 0) {
        throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
      }
      BatchStream s = inner.open(batchSize);
      return new BatchStream() {
        long seen;
        long emitted;
        @Nullable Batch carry;
        @Nullable Batch ready = advance();

        /** The next piece of selected samples, at most {@code want} of them, or null at the end. */
        private @Nullable Batch piece(int want) {
          if (carry != null) {
            Batch c = carry;
            carry = null;
            if (c.size() <= want) {
              return c;
            }
            carry = c.slice(want, c.size());
            return c.slice(0, want);
          }
          while (s.hasNext()) {
            Batch b = s.next();
            int n = b.size();
            int from = (int) Math.max(0, Math.min(n, offset - seen));
            seen += n;
            if (from < n) {
              Batch sel = from == 0 ? b : b.slice(from, n);
              if (sel.size() > want) {
                carry = sel.slice(want, sel.size());
                sel = sel.slice(0, want);
              }
              return sel;
            }
          }
          return null;
        }

        private @Nullable Batch advance() {
          List<Batch> parts = new ArrayList<>();
          int have = 0;
          while (have < batchSize && (limit < 0 || emitted + have < limit)) {
            int want = batchSize - have;
            if (limit >= 0) {
              want = (int) Math.min(want, limit - emitted - have);
            }
            Batch p = piece(want);
            if (p == null) {
              break;
            }
            if (!p.sharesFirstAxis()) {
              // One sample whose inputs share no first axis: a batch of its own, never merged.
              if (parts.isEmpty()) {
                parts.add(p);
              } else {
                carry = p;
              }
              break;
            }
            parts.add(p);
            have += p.size();
          }
          if (parts.isEmpty()) {
            return null;
          }
          Batch first = parts.get(0);
          Batch out =
              first.sharesFirstAxis()
                  ? merge(parts, emitted)
                  : new Batch(first.inputs(), first.labels(), first.attributes(), emitted);
          emitted += out.size();
          check(out);
          return out;
        }

        @Override
        public boolean hasNext() {
          return ready != null;
        }

        @Override
        public Batch next() {
          if (ready == null) {
            throw new NoSuchElementException();
          }
          Batch b = ready;
          ready = advance();
          return b;
        }

        @Override
        public void close() {
          s.close();
        }
      };
    }

    /**
     * Token tensors ({@code int64 [batch, length]}) of pieces cut from differently padded batches
     * are right-padded with zeros to the longest piece (id 0, attention 0, type 0), as the
     * tokenizer would have padded them together.
     */
    private static List<Tensor> padSequences(List<Tensor> pieces) {
      long longest = 0;
      for (Tensor t : pieces) {
        if (t.type() != io.quantguard.onnx.DataType.INT64 || t.rank() != 2) {
          return pieces;
        }
        longest = Math.max(longest, t.shape()[1]);
      }
      List<Tensor> out = new ArrayList<>();
      for (Tensor t : pieces) {
        long[] s = t.shape();
        if (s[1] == longest) {
          out.add(t);
          continue;
        }
        long[] padded = new long[(int) (s[0] * longest)];
        long[] src = t.longs();
        for (int r = 0; r < s[0]; r++) {
          System.arraycopy(src, (int) (r * s[1]), padded, (int) (r * longest), (int) s[1]);
        }
        out.add(Tensor.ofLongs(padded, s[0], longest));
      }
      return out;
    }

    private static Batch merge(List<Batch> parts, long offset) {
      Batch first = parts.get(0);
      Map<String, Tensor> in = new LinkedHashMap<>();
      for (String k : first.inputs().keySet()) {
        in.put(k, Tensor.concat(padSequences(parts.stream().map(p -> p.inputs().get(k)).toList())));
      }
      long @Nullable [] y = null;
      if (first.labels() != null) {
        y = parts.stream().flatMapToLong(p -> java.util.Arrays.stream(p.labels())).toArray();
      }
      List<Map<String, String>> attrs = new ArrayList<>();
      parts.forEach(p -> attrs.addAll(p.attributes()));
      return new Batch(in, y, attrs, offset);
    }

    private void check(Batch b) {
      for (Map.Entry<String, Tensor> e : b.inputs().entrySet()) {
        int bad = e.getValue().firstNonFinite();
        if (bad >= 0) {
          long per = e.getValue().elementCount() / Math.max(1, e.getValue().batchSize());
          long sample = b.offset() + bad / Math.max(1, per);
          float v = e.getValue().floats()[bad];
          throw new InvalidInputException(
              inner.name(),
              "sample "
                  + sample
                  + " of input '"
                  + e.getKey()
                  + "' contains "
                  + v
                  + " (element "
                  + (bad % per)
                  + ")",
              "clean or drop that sample; models cannot be calibrated or evaluated on NaN or infinity");
        }
      }
    }
  }
}
