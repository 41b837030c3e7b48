package io.quantguard.quantize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quantguard.onnx.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Collectors;

/**
 * Reads recipes from YAML or JSON (unknown keys are errors that name the key and list the valid
 * ones) and writes the canonical JSON form whose SHA-256 identifies the recipe in model metadata
 * and the registry.
 */
public final class RecipeIO {
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final ObjectMapper CANONICAL =
      new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private RecipeIO() {}

  public static Recipe read(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot be read: " + e.getMessage(), "check the path", e);
    }
  }

  /** Parses YAML (JSON is YAML too). */
  public static Recipe parse(String text, String name) {
    try {
      Recipe r = YAML.readValue(text, Recipe.class);
      if (r == null) {
        throw new InvalidInputException(name, "is empty", "write at least `mode: static`");
      }
      return r;
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds().stream()
              .map(Object::toString)
              .sorted()
              .collect(Collectors.joining(", "));
      throw new InvalidInputException(
          name,
          "unknown recipe key '" + e.getPropertyName() + "' at " + path(e),
          "valid keys there: " + known,
          e);
    } catch (JsonMappingException e) {
      throw new InvalidInputException(
          name,
          "invalid recipe at " + path(e) + ": " + e.getOriginalMessage(),
          "see the recipe section of the README",
          e);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(
          name, "is not valid YAML/JSON: " + e.getOriginalMessage(), "fix the syntax", e);
    }
  }

  private static String path(JsonMappingException e) {
    String p =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."));
    return p.isEmpty() ? "the top level" : p.replace(".[", "[");
  }

  /** Canonical JSON: fixed field order, no nulls, no whitespace. */
  public static String toJson(Recipe recipe) {
    try {
      return CANONICAL.writeValueAsString(recipe);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String toYaml(Recipe recipe) {
    try {
      return YAML.writeValueAsString(recipe);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SHA-256 of the canonical JSON, hex. */
  public static String sha256(Recipe recipe) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(toJson(recipe).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
