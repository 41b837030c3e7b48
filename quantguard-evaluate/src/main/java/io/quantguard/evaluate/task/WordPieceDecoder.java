package io.quantguard.evaluate.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns WordPiece token ids back into text, as the HuggingFace WordPiece decoder does: special
 * tokens dropped, tokens joined by spaces, then every {@code " ##"} continuation glued to the
 * previous token. Read from a {@code tokenizer.json} in pure Java, so decoding answers needs no
 * native tokenizer.
 */
final class WordPieceDecoder {
  private final Map<Long, String> tokens = new HashMap<>();
  private final Map<String, Long> ids = new HashMap<>();
  private final Set<Long> special = new HashSet<>();
  private final String prefix;

  WordPieceDecoder(Path tokenizerJson) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(tokenizerJson.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(
          tokenizerJson.toString(), "cannot be read: " + e.getMessage(), "check the file", e);
    }
    JsonNode model = root.path("model");
    if (!"WordPiece".equals(model.path("type").asText())) {
      throw new InvalidInputException(
          tokenizerJson.toString(),
          "is a "
              + model.path("type").asText("unknown")
              + " tokenizer; answers decode from WordPiece only",
          "omit tokenizer= to score answers as token ids");
    }
    prefix = model.path("continuing_subword_prefix").asText("##");
    for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
      tokens.put(e.getValue().asLong(), e.getKey());
      ids.put(e.getKey(), e.getValue().asLong());
    }
    for (JsonNode t : root.path("added_tokens")) {
      if (t.path("special").asBoolean()) {
        special.add(t.path("id").asLong());
      }
    }
  }

  /** The id of a vocabulary token, or -1. */
  long id(String token) {
    return ids.getOrDefault(token, -1L);
  }

  String decode(long[] idsToDecode, int from, int to) {
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      long id = idsToDecode[i];
      if (special.contains(id)) {
        continue;
      }
      String t = tokens.getOrDefault(id, "[UNK]");
      if (t.startsWith(prefix) && b.length() > 0) {
        b.append(t, prefix.length(), t.length());
      } else {
        if (b.length() > 0) {
          b.append(' ');
        }
        b.append(t.startsWith(prefix) ? t.substring(prefix.length()) : t);
      }
    }
    return b.toString();
  }
}
