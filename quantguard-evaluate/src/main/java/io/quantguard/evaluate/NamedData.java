package io.quantguard.evaluate;

import io.quantguard.runtime.data.DataSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * A data set as an evaluation names it: {@code NAME=SPEC}, or a bare spec named after its file
 * ({@code idx:/data/t10k-images.gz?input=image} is {@code t10k-images}). The name is the slice
 * {@code data=NAME} and the key of the data set in the report.
 *
 * @param name the data set's name, unique among those of one evaluation
 * @param spec the data spec ({@code idx:...}, {@code npy:...}, ...)
 */
public record NamedData(String name, String spec) {

  /**
   * Names every data set: {@code NAME=SPEC} keeps its name; a bare spec gets its file's name
   * without extensions, with {@code -2}, {@code -3} ... where that name is taken already.
   */
  public static List<NamedData> parseAll(List<String> texts) {
    List<NamedData> out = new ArrayList<>();
    List<String> taken = new ArrayList<>();
    for (String text : texts) {
      String[] nameAndSpec = split(text);
      String name = nameAndSpec[0] != null ? nameAndSpec[0] : defaultName(nameAndSpec[1], taken);
      taken.add(name);
      out.add(new NamedData(name, nameAndSpec[1]));
    }
    return out;
  }

  /** The data set for an {@link Evaluation}: the spec parsed ({@link DataSpec#parse}). */
  public Evaluation.Data data() {
    return new Evaluation.Data(name, DataSpec.parse(spec));
  }

  /**
   * {@code NAME=SPEC} → [NAME, SPEC]; a bare spec → [null, SPEC]. An '=' counts only before the
   * spec's scheme (':') and file marker ('@'), so {@code idx:f.gz?input=image} is a bare spec.
   */
  private static String[] split(String d) {
    int eq = d.indexOf('=');
    int colon = d.indexOf(':');
    int at = d.indexOf('@');
    if (eq > 0 && (colon < 0 || eq < colon) && (at < 0 || eq < at)) {
      String name = d.substring(0, eq);
      if (name.matches("[A-Za-z0-9_.-]+")) {
        return new String[] {name, d.substring(eq + 1)};
      }
    }
    return new String[] {null, d};
  }

  /** The data file's name without extensions, unique among the names taken so far. */
  private static String defaultName(String spec, List<String> taken) {
    String path = spec.replaceFirst("^[a-z]+:", "").replaceFirst("^@", "");
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    String file = path.substring(path.lastIndexOf('/') + 1).replaceFirst("\\..*$", "");
    String name = file.isEmpty() ? "data" : file;
    String unique = name;
    for (int i = 2; taken.contains(unique); i++) {
      unique = name + "-" + i;
    }
    return unique;
  }
}
