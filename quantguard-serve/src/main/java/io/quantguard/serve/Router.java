package io.quantguard.serve;

import io.javalin.http.NotFoundResponse;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The routing step of every inference request: which version answers, and whether another runs as a
 * shadow. It runs before the body is read, on the model name and version in the URL, so a rollout
 * controller can split traffic (canary share, shadow) without touching the protocol code. Throwing
 * {@link NotFoundResponse} answers 404 with its message.
 */
@FunctionalInterface
public interface Router {
  /**
   * @param model the model name in the URL
   * @param version the version in the URL, or null when the client named none
   */
  Route route(String model, @Nullable Integer version, ModelCatalog catalog);

  /** The version in the URL, else the model's default version; never a shadow. */
  static Router pinned() {
    return (model, version, catalog) -> {
      if (version == null) {
        return Route.to(
            catalog
                .defaultVersion(model)
                .orElseThrow(() -> new NotFoundResponse("no model '" + model + "'")));
      }
      ModelKey key = new ModelKey(model, version);
      if (!catalog.versions(model).contains(key)) {
        throw new NotFoundResponse(
            catalog.versions(model).isEmpty()
                ? "no model '" + model + "'"
                : "model '"
                    + model
                    + "' has no version "
                    + version
                    + "; served: "
                    + catalog.versions(model).stream()
                        .map(k -> Integer.toString(k.version()))
                        .collect(Collectors.joining(", ")));
      }
      return Route.to(key);
    };
  }
}
