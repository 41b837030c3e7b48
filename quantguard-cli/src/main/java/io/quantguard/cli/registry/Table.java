package io.quantguard.cli.registry;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain text table with columns padded to their widest cell. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();

  Table(String... header) {
    rows.add(header);
  }

  void row(String... cells) {
    rows.add(cells);
  }

  void print(PrintWriter out) {
    int n = rows.get(0).length;
    int[] w = new int[n];
    for (String[] r : rows) {
      for (int i = 0; i < n; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < n; i++) {
        s.append(i == n - 1 ? r[i] : String.format("%-" + (w[i] + 2) + "s", r[i]));
      }
      out.println(s.toString().stripTrailing());
    }
  }
}
