package io.quantguard.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import io.quantguard.onnx.InvalidInputException;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Names a model or one of its versions: {@code MODEL}, {@code MODEL@3}, or {@code MODEL@production}
 * (any stage that names one version: {@code canary}, {@code production}).
 *
 * @param version the version number, or null
 * @param alias the stage alias, or null; at most one of version and alias is set
 */
public record ArtifactRef(String model, @Nullable Integer version, @Nullable Stage alias) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  public ArtifactRef {
    checkName(model, model);
    if (version != null && alias != null) {
      throw new IllegalArgumentException("a reference has a version or an alias, not both");
    }
  }

  public static ArtifactRef of(String model, int version) {
    return new ArtifactRef(model, version, null);
  }

  /** Parses {@code MODEL}, {@code MODEL@VERSION} or {@code MODEL@STAGE}. */
  public static ArtifactRef parse(String text) {
    int at = text.indexOf('@');
    if (at < 0) {
      return new ArtifactRef(text, null, null);
    }
    String model = text.substring(0, at);
    String sel = text.substring(at + 1);
    checkName(model, text);
    if (sel.matches("[0-9]{1,9}")) {
      int v = Integer.parseInt(sel);
      if (v < 1) {
        throw new InvalidInputException(text, "versions start at 1", "use MODEL@1 or later");
      }
      return new ArtifactRef(model, v, null);
    }
    Stage s = Stage.parse(sel, text);
    if (!s.exclusive()) {
      throw new InvalidInputException(
          text,
          "'" + s.id() + "' can hold many versions, so it names none",
          "use MODEL@VERSION, MODEL@production or MODEL@canary");
    }
    return new ArtifactRef(model, null, s);
  }

  /** Checks a model name: letters, digits, '.', '_' and '-', starting with a letter or digit. */
  static String checkName(String name, String input) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidInputException(
          String.valueOf(input),
          "'" + name + "' is not a model name",
          "use letters, digits, '.', '_' and '-' (up to 128), starting with a letter or digit");
    }
    return name;
  }

  /** As {@link #checkName}, for a model name given as the setting {@code key}. */
  static String checkNameOf(String key, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw InvalidInputException.forParameter(
          key,
          name,
          "is not a model name",
          "use letters, digits, '.', '_' and '-' (up to 128), starting with a letter or digit");
    }
    return name;
  }

  /** True when a version or alias is given. */
  public boolean pinned() {
    return version != null || alias != null;
  }

  /** {@code MODEL}, {@code MODEL@3} or {@code MODEL@production}; also its JSON form. */
  @JsonValue
  @Override
  public String toString() {
    return model + (version != null ? "@" + version : alias != null ? "@" + alias.id() : "");
  }
}
