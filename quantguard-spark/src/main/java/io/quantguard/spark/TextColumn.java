package io.quantguard.spark;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.quantguard.report.Sha256;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A column of text tokenized on the executors into the transformer inputs {@code input_ids}, {@code
 * attention_mask} and {@code token_type_ids} (int64 {@code [batch, length]}) with a HuggingFace
 * {@code tokenizer.json} through DJL, with the settings of the {@code text:} data spec: special
 * tokens added, truncated to {@code maxLength}, padded to the longest text of the batch or to
 * {@code maxLength}. The tokenizer file travels with the job (its bytes), so executors need no
 * copy.
 *
 * @param column the column holding one text per row
 * @param tokenizer the bytes of the {@code tokenizer.json}
 * @param maxLength tokens per text at most (the {@code text:} spec's {@code max_length}, 128 by
 *     default)
 * @param padToMax pad every text to {@code maxLength} ({@code padding=max_length}) instead of to
 *     the longest of the batch
 */
public record TextColumn(String column, byte[] tokenizer, int maxLength, boolean padToMax)
    implements Serializable {
  public TextColumn {
    if (maxLength < 2) {
      throw new IllegalArgumentException(
          "text column '"
              + column
              + "': max_length="
              + maxLength
              + " leaves no room for text;"
              + " use at least 8");
    }
  }

  /** Reads the tokenizer file on the driver. */
  public static TextColumn of(String column, Path tokenizer, int maxLength, boolean padToMax) {
    try {
      return new TextColumn(column, Files.readAllBytes(tokenizer), maxLength, padToMax);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "the tokenizer " + tokenizer + " cannot be read: " + e.getMessage(), e);
    }
  }

  /** A tokenizer with the {@code text:} data spec's settings; the caller closes it. */
  HuggingFaceTokenizer open() {
    try {
      String id = HexFormat.of().formatHex(Sha256.digest().digest(tokenizer)).substring(0, 16);
      Path file =
          Path.of(System.getProperty("java.io.tmpdir"), "quantguard-tokenizer-" + id + ".json");
      if (!Files.isRegularFile(file) || Files.size(file) != tokenizer.length) {
        Path part = Files.createTempFile(file.getParent(), "quantguard-tokenizer", ".part");
        Files.write(part, tokenizer);
        Files.move(part, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      HuggingFaceTokenizer.Builder b =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(file)
              .optMaxLength(maxLength)
              .optTruncation(true)
              .optAddSpecialTokens(true);
      if (padToMax) {
        b.optPadToMaxLength();
      } else {
        b.optPadding(true);
      }
      return b.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TextColumn t
        && t.column.equals(column)
        && Arrays.equals(t.tokenizer, tokenizer)
        && t.maxLength == maxLength
        && t.padToMax == padToMax;
  }

  @Override
  public int hashCode() {
    return (column.hashCode() * 31 + Arrays.hashCode(tokenizer)) * 31 + maxLength;
  }

  @Override
  public String toString() {
    return "text " + column + " (max_length " + maxLength + (padToMax ? ", padded to it)" : ")");
  }
}
