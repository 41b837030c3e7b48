package io.quantguard.registry;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * What to register.
 *
 * @param file the ONNX model file (weights inline)
 * @param model the model name to register it under (a new version is added)
 * @param parent the model it was derived from, or null: {@code MODEL@VERSION} (or {@code
 *     MODEL@production}), or the path of a file already registered
 * @param recipe the recipe, for a model whose metadata does not record one; or null
 * @param report an evaluation report ({@code report.json} or its directory), or null
 * @param note why it is registered, or null
 * @param actor who registers it
 */
public record Registration(
    Path file,
    String model,
    @Nullable String parent,
    @Nullable Recipe recipe,
    @Nullable Path report,
    @Nullable String note,
    String actor) {

  /**
   * A recipe given with the model file, as {@code RecipeIO} writes it: the registry stores recipes,
   * it does not read them.
   *
   * @param json the resolved recipe as canonical JSON
   * @param sha256 SHA-256 of {@code json}, which must be the hash the model records, if it records
   *     one
   * @param mode the recipe's quantization mode
   */
  public record Recipe(String json, String sha256, String mode) {}
}
