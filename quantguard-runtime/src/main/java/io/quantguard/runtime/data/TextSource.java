package io.quantguard.runtime.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * Text turned into transformer inputs with a HuggingFace {@code tokenizer.json} (through DJL's
 * binding of the Rust tokenizers): {@code input_ids}, {@code attention_mask} and {@code
 * token_type_ids} as int64 {@code [batch, length]}. Lines come from a plain (or gzip) text file, a
 * tab-separated column ({@code column=N}, 1-based like {@code cut -f}) or a JSONL field ({@code
 * field=name}). Sequences are truncated to {@code max_length} and padded to the longest in the
 * batch ({@code padding=longest}) or to {@code max_length} ({@code padding=max_length}). With
 * {@code match=REGEX} only the records whose text contains a match are read, before {@code offset}
 * and {@code limit} count: a corpus of several languages can then calibrate a model on the one it
 * serves (Lucene's Europarl sample is 93 % other languages than English).
 */
final class TextSource implements DataSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String name;
  private final Path file;
  private final Path tokenizer;
  private final int maxLength;
  private final boolean padToMax;
  private final @Nullable String field;
  private final int column;
  private final @Nullable String labelField;
  private final int labelColumn;
  private final @Nullable Pattern match;
  private final Map<String, Long> labelIds = new HashMap<>();

  TextSource(String name, Path file, DataOptions o) {
    this.name = name;
    this.file = file;
    this.tokenizer =
        ResourceLocator.resolve(
            o.required("tokenizer", "the HuggingFace tokenizer.json that matches the model"));
    this.maxLength = o.integer("max_length", 128);
    String padding = o.string("padding", "longest");
    if (!padding.equals("longest") && !padding.equals("max_length")) {
      throw new InvalidInputException(
          name, "padding=" + padding + " is not longest or max_length", "pick one of those");
    }
    this.padToMax = padding.equals("max_length");
    this.field =
        file.toString().endsWith(".jsonl") || file.toString().endsWith(".jsonl.gz")
            ? o.string("field", "text")
            : o.optional("field");
    this.column = o.integer("column", 0);
    this.labelField = o.optional("label_field");
    this.labelColumn = o.integer("label_column", 0);
    String regex = o.optional("match");
    try {
      this.match = regex == null ? null : Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new InvalidInputException(
          name,
          "match=" + regex + " is not a regular expression: " + e.getDescription(),
          "write a Java regular expression, with + written %2B and & written %26",
          e);
    }
    if (maxLength < 2) {
      throw new InvalidInputException(
          name, "max_length=" + maxLength + " leaves no room for text", "use at least 8");
    }
    try (HuggingFaceTokenizer t = newTokenizer()) {
      t.encode("check");
    }
  }

  private HuggingFaceTokenizer newTokenizer() {
    try {
      HuggingFaceTokenizer.Builder b =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(tokenizer)
              .optMaxLength(maxLength)
              .optTruncation(true)
              .optAddSpecialTokens(true);
      if (padToMax) {
        b.optPadToMaxLength();
      } else {
        b.optPadding(true);
      }
      return b.build();
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          tokenizer.toString(),
          "is not a usable HuggingFace tokenizer.json: " + e.getMessage(),
          "pass the tokenizer.json published with the model",
          e);
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
    return labelField != null || labelColumn > 0;
  }

  /** One record of the file: its text and (when configured) its label. */
  private record Item(String text, @Nullable Long label) {}

  private Item parse(String line, long lineNo) {
    String text;
    Long label = null;
    if (field != null) {
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (IOException e) {
        throw new InvalidInputException(
            name,
            "line " + lineNo + " is not JSON: " + e.getMessage(),
            "write one JSON object per line",
            e);
      }
      JsonNode v = node.get(field);
      if (v == null || !v.isTextual()) {
        throw new InvalidInputException(
            name,
            "line " + lineNo + " has no text field '" + field + "'",
            "set field= to the name of the text field");
      }
      text = v.asText();
      if (labelField != null) {
        label = labelOf(node.get(labelField), lineNo);
      }
    } else if (column > 0 || labelColumn > 0) {
      String[] cols = line.split("\t", -1);
      int c = column > 0 ? column : 1;
      if (cols.length < Math.max(c, labelColumn)) {
        throw new InvalidInputException(
            name,
            "line " + lineNo + " has " + cols.length + " tab-separated columns",
            "check column= and label_column=");
      }
      text = cols[c - 1];
      if (labelColumn > 0) {
        label = labelOf(JSON.getNodeFactory().textNode(cols[labelColumn - 1]), lineNo);
      }
    } else {
      text = line;
    }
    return new Item(text, label);
  }

  private Long labelOf(JsonNode v, long lineNo) {
    if (v == null || v.isNull()) {
      throw new InvalidInputException(
          name,
          "line " + lineNo + " has no label",
          "label every line or drop label_field/label_column");
    }
    if (v.canConvertToLong() && v.isIntegralNumber()) {
      return v.asLong();
    }
    String s = v.asText();
    if (s.matches("-?\\d+")) {
      return Long.parseLong(s);
    }
    // String labels get ids in order of first appearance, which is stable for a given file.
    return labelIds.computeIfAbsent(s, k -> (long) labelIds.size());
  }

  @Override
  public BatchStream open(int batchSize) {
    BufferedReader reader;
    try {
      reader =
          new BufferedReader(
              new InputStreamReader(IdxSource.openMaybeGzip(file), StandardCharsets.UTF_8),
              1 << 16);
    } catch (IOException e) {
      throw new InvalidInputException(
          name, "cannot open " + file + ": " + e.getMessage(), "check the file", e);
    }
    HuggingFaceTokenizer tok = newTokenizer();
    return new BatchStream() {
      long lineNo;
      long offset;
      @Nullable Item lookahead = read();

      private @Nullable Item read() {
        try {
          String line;
          while ((line = reader.readLine()) != null) {
            lineNo++;
            if (!line.isBlank()) {
              Item it = parse(line, lineNo);
              if (!it.text().isBlank() && (match == null || match.matcher(it.text()).find())) {
                return it;
              }
            }
          }
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public boolean hasNext() {
        return lookahead != null;
      }

      @Override
      public Batch next() {
        if (lookahead == null) {
          throw new NoSuchElementException();
        }
        List<Item> items = new ArrayList<>();
        while (lookahead != null && items.size() < batchSize) {
          items.add(lookahead);
          lookahead = read();
        }
        List<String> texts = items.stream().map(Item::text).toList();
        Encoding[] enc = tok.batchEncode(texts);
        int len = enc[0].getIds().length;
        int n = enc.length;
        long[] ids = new long[n * len];
        long[] mask = new long[n * len];
        long[] types = new long[n * len];
        List<Map<String, String>> attrs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          System.arraycopy(enc[i].getIds(), 0, ids, i * len, len);
          System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * len, len);
          System.arraycopy(enc[i].getTypeIds(), 0, types, i * len, len);
          long tokens = 0;
          for (long m : enc[i].getAttentionMask()) {
            tokens += m;
          }
          Map<String, String> a = new LinkedHashMap<>();
          a.put("text", texts.get(i));
          a.put("tokens", Long.toString(tokens));
          a.put("truncated", Boolean.toString(enc[i].exceedMaxLength()));
          attrs.add(a);
        }
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        inputs.put("input_ids", Tensor.ofLongs(ids, n, len));
        inputs.put("attention_mask", Tensor.ofLongs(mask, n, len));
        inputs.put("token_type_ids", Tensor.ofLongs(types, n, len));
        long @Nullable [] labels = null;
        if (hasLabels()) {
          labels = items.stream().mapToLong(it -> Objects.requireNonNull(it.label())).toArray();
        }
        Batch b = new Batch(inputs, labels, attrs, offset);
        offset += n;
        return b;
      }

      @Override
      public void close() {
        tok.close();
        try {
          reader.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
