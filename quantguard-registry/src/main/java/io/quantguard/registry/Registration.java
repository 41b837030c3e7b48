package io.quantguard.registry;

import java.nio.file.Path;

/**
 * What to register.
 *
 * @param file the ONNX model file (weights inline)
 * @param model the model name to register it under (a new version is added)
 * @param parent the model it was derived from, or null: {@code MODEL@VERSION} (or {@code
 *     MODEL@production}), or the path of a file already registered
 * @param recipe a recipe file, for a model whose metadata does not record its recipe; or null
 * @param report an evaluation report ({@code report.json} or its directory), or null
 * @param note why it is registered, or null
 * @param actor who registers it
 */
public record Registration(
    Path file, String model, String parent, Path recipe, Path report, String note, String actor) {}
