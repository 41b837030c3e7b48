package io.quantguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quantguard registry} end to end on the Fashion-MNIST CNN: quantize, evaluate, register
 * with lineage and report, promote, roll back, reproduce byte for byte; on SQLite, and on
 * PostgreSQL when {@code QG_TEST_POSTGRES_URL} is set.
 */
class RegistryCommandTest {
  @TempDir Path tmp;

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String data(String file) {
    return "idx:" + TestModels.fashionMnistSample(file) + "?input=image";
  }

  @Test
  void cnnLifecycleOnSqlite() throws Exception {
    lifecycle(List.of("--registry", tmp.resolve("registry").toString()));
  }

  @Test
  void cnnLifecycleOnPostgres() throws Exception {
    String url = System.getenv("QG_TEST_POSTGRES_URL");
    Assumptions.assumeTrue(
        url != null && url.startsWith("jdbc:postgresql:"), "QG_TEST_POSTGRES_URL is not set");
    String schema =
        "qg_cli_"
            + UUID.randomUUID()
                .toString()
                .replace("-", "")
                .substring(0, 12)
                .toLowerCase(Locale.ROOT);
    try {
      lifecycle(
          List.of(
              "--registry",
              url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema,
              "--blobs",
              tmp.resolve("blobs").toString()));
    } finally {
      try (Connection c = DriverManager.getConnection(url);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  private void lifecycle(List<String> store) throws Exception {
    Path fp32 = TestModels.fashionCnn();
    String train = data("train-images-idx3-ubyte.gz");
    Path int8 = tmp.resolve("cnn-int8.onnx");
    Cli q =
        Cli.run(
            "quantize",
            fp32.toString(),
            "-o",
            int8.toString(),
            "--calibration",
            train,
            "--samples",
            "200");
    assertThat(q.exitCode()).as(q.err()).isZero();
    Path report = tmp.resolve("eval");
    Cli ev =
        Cli.run(
            "evaluate",
            "--baseline",
            fp32.toString(),
            "--candidate",
            int8.toString(),
            "--task",
            "classification",
            "--data",
            data("t10k-images-idx3-ubyte.gz") + "&limit=300",
            "--slice-by",
            "label",
            "--bootstrap",
            "50",
            "--report",
            report.toString());
    assertThat(ev.exitCode()).as(ev.err()).isZero();

    Cli r1 =
        run(
            store,
            "registry",
            "register",
            fp32.toString(),
            "--name",
            "fashion-cnn",
            "--note",
            "FP32 baseline",
            "--actor",
            "alice");
    assertThat(r1.exitCode()).as(r1.err()).isZero();
    assertThat(r1.out()).contains("Registered  fashion-cnn@1 (candidate, float");
    Cli r2 =
        run(
            store,
            "registry",
            "register",
            int8.toString(),
            "--name",
            "fashion-cnn",
            "--parent",
            "fashion-cnn@1",
            "--report",
            report.toString(),
            "--actor",
            "alice",
            "--json");
    assertThat(r2.exitCode()).as(r2.err()).isZero();
    JsonNode v2 = JSON.readTree(r2.out());
    assertThat(v2.get("ref").asText()).isEqualTo("fashion-cnn@2");
    assertThat(v2.get("parent").asText()).isEqualTo("fashion-cnn@1");
    assertThat(v2.get("mode").asText()).isEqualTo("static");
    assertThat(v2.get("calibrationSamples").asInt()).isEqualTo(200);
    assertThat(v2.get("toolVersion").asText()).isEqualTo(io.quantguard.onnx.QuantGuard.VERSION);
    assertThat(v2.get("environment").get("onnxRuntime").asText()).isNotBlank();
    assertThat(v2.get("reportSha256").asText()).hasSize(64);

    Cli lineage = run(store, "registry", "lineage", "fashion-cnn");
    assertThat(lineage.exitCode()).as(lineage.err()).isZero();
    assertThat(lineage.out()).startsWith("fashion-cnn@1  candidate  float");
    assertThat(lineage.out())
        .contains("└── fashion-cnn@2  candidate  static")
        .contains("calibration ")
        .contains("(200 samples)")
        .contains("report");

    Cli show = run(store, "registry", "show", "fashion-cnn@2");
    assertThat(show.exitCode()).as(show.err()).isZero();
    assertThat(show.out())
        .contains("Parent      fashion-cnn@1")
        .contains("Calibration 200 samples")
        .contains("Report      sha256")
        .contains("cnn-int8")
        .containsPattern(
            "cnn-int8.onnx: (no significant difference|significantly better|significantly worse): ")
        .as("the verdict's outcome is said once, in words")
        .doesNotContainPattern("[a-z]+_[a-z_]+ — ");

    // Promote, promote, roll back (to the previous production), undo.
    assertThat(run(store, "registry", "promote", "fashion-cnn@1", "--actor", "alice").exitCode())
        .isEqualTo(2); // --reason is required
    assertThat(
            run(
                    store,
                    "registry",
                    "promote",
                    "fashion-cnn@1",
                    "--reason",
                    "baseline",
                    "--actor",
                    "alice")
                .exitCode())
        .isZero();
    Cli p2 =
        run(
            store,
            "registry",
            "promote",
            "fashion-cnn@2",
            "--reason",
            "passes the gate",
            "--actor",
            "alice");
    assertThat(p2.out())
        .contains("Promoted    fashion-cnn@2 to production (was candidate)")
        .contains("Displaced   fashion-cnn@1 -> archived");
    Cli rb =
        run(
            store,
            "registry",
            "rollback",
            "fashion-cnn",
            "--reason",
            "accuracy alarm",
            "--actor",
            "oncall");
    assertThat(rb.exitCode()).as(rb.err()).isZero();
    assertThat(rb.out()).contains("production fashion-cnn@2 -> fashion-cnn@1");
    assertThat(stage(store, 1)).isEqualTo("production");
    assertThat(stage(store, 2)).isEqualTo("archived");
    Cli undo =
        run(
            store,
            "registry",
            "rollback",
            "fashion-cnn",
            "--reason",
            "false alarm",
            "--actor",
            "oncall",
            "--json");
    assertThat(JSON.readTree(undo.out()).get("version").asInt()).isEqualTo(2);
    assertThat(stage(store, 2)).isEqualTo("production");

    // Reproduce byte for byte; other data is named as the difference (exit 1).
    Cli rep = run(store, "registry", "reproduce", "fashion-cnn@2", "--calibration", train);
    assertThat(rep.exitCode()).as(rep.err() + rep.out()).isZero();
    assertThat(rep.out()).contains("Reproduced  fashion-cnn@2 byte for byte");
    Cli bad =
        run(
            store,
            "registry",
            "reproduce",
            "fashion-cnn@production",
            "--calibration",
            data("t10k-images-idx3-ubyte.gz"),
            "--json");
    assertThat(bad.exitCode()).as(bad.err()).isEqualTo(1);
    JsonNode diff = JSON.readTree(bad.out());
    assertThat(diff.get("identical").asBoolean()).isFalse();
    assertThat(diff.get("differences").get(0).get("what").asText()).isEqualTo("data fingerprint");

    Cli log = run(store, "registry", "log", "fashion-cnn");
    assertThat(log.out().lines().toList()).hasSize(8);
    assertThat(log.out())
        .contains("register  fashion-cnn@2 sha256")
        .contains(
            "promote   fashion-cnn@2 -> production (fashion-cnn@1 displaced)  \"passes the gate\"")
        .contains("rollback  production fashion-cnn@2 -> fashion-cnn@1  \"accuracy alarm\"")
        .contains("reproduce fashion-cnn@2 byte for byte")
        .contains("reproduce fashion-cnn@2 DIFFERS (data fingerprint, bytes)");
    Cli list = run(store, "registry", "list", "--json");
    JsonNode m = JSON.readTree(list.out()).get("models").get(0);
    assertThat(m.get("name").asText()).isEqualTo("fashion-cnn");
    assertThat(m.get("production").asInt()).isEqualTo(2);

    // Audit the production version on current data: one policy holds, a strict one fails. The
    // audit slices as the registered report did (by label), so the per-slice rule is judged on
    // every class, not on all data only.
    Path lenient =
        Files.writeString(
            tmp.resolve("lenient.yaml"),
            "rules:\n  accuracy:\n    - {max_drop: 2%}\n"
                + "    - {max_drop: 9%, per_slice: true, min_samples: 10}\n");
    Path strict =
        Files.writeString(tmp.resolve("strict.yaml"), "rules:\n  size: {max_ratio: 0.1}\n");
    String current = data("t10k-images-idx3-ubyte.gz") + "&limit=300";
    Cli ok =
        run(
            store,
            "audit",
            "fashion-cnn",
            "--data",
            current,
            "--policy",
            lenient.toString(),
            "--bootstrap",
            "50",
            "--actor",
            "cron");
    assertThat(ok.exitCode()).as(ok.err() + ok.out()).isZero();
    assertThat(ok.out())
        .contains("Audit       fashion-cnn@2 (production) against fashion-cnn@1")
        .contains(", slices by label")
        .contains("of 11 slices")
        .contains("PASSED")
        .doesNotContain("judged on all data only");
    Cli drift =
        run(
            store,
            "audit",
            "fashion-cnn",
            "--data",
            current,
            "--policy",
            strict.toString(),
            "--bootstrap",
            "50",
            "--actor",
            "cron",
            "--json");
    assertThat(drift.exitCode()).as(drift.err()).isEqualTo(1);
    assertThat(JSON.readTree(drift.out()).get("passed").asBoolean()).isFalse();
    assertThat(JSON.readTree(drift.out()).get("sliceBy").toString()).isEqualTo("[\"label\"]");
    Cli audits = run(store, "registry", "log", "fashion-cnn", "--limit", "2");
    assertThat(audits.out())
        .contains(
            "audit     fashion-cnn@2 (production) passed lenient.yaml sha256 "
                + sha256(lenient).substring(0, 12)
                + "  \"scheduled audit\"")
        .contains(
            "audit     fashion-cnn@2 (production) FAILED strict.yaml sha256 "
                + sha256(strict).substring(0, 12));

    policies(store, current, lenient);

    // Bad input exits 3: unknown model or version, a corrupted blob.
    Cli ghost = run(store, "registry", "show", "ghost@1");
    assertThat(ghost.exitCode()).isEqualTo(3);
    assertThat(ghost.err()).contains("ghost: is not a model in the registry");
    assertThat(run(store, "registry", "promote", "fashion-cnn@9", "--reason", "x").exitCode())
        .isEqualTo(3);
    Path blobs =
        store.contains("--blobs")
            ? Path.of(store.get(store.indexOf("--blobs") + 1))
            : Path.of(store.get(1)).resolve("blobs");
    Path blob = blobFile(blobs, v2.get("sha256").asText());
    byte[] bytes = Files.readAllBytes(blob);
    bytes[100] ^= 0x10;
    Files.write(blob, bytes);
    Path out = tmp.resolve("exported.onnx");
    Cli corrupt = run(store, "registry", "export", "fashion-cnn@2", "-o", out.toString());
    assertThat(corrupt.exitCode()).isEqualTo(3);
    assertThat(corrupt.err()).contains("fashion-cnn@2's model").contains("is corrupted");
    assertThat(out).doesNotExist();
    Cli refused =
        run(store, "audit", "fashion-cnn", "--data", current, "--policy", lenient.toString());
    assertThat(refused.exitCode()).isEqualTo(3);
    assertThat(refused.err()).contains("fashion-cnn@2's model").contains("is corrupted");
    Cli exported = run(store, "registry", "export", "fashion-cnn@1", "-o", out.toString());
    assertThat(exported.exitCode()).as(exported.err()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(fp32));
  }

  /**
   * The model's registered policy: set, shown, set again (a no-op), changed, logged with hashes and
   * reasons; a malformed one refused with nothing stored; audits judge it when --policy is left
   * out, and warn when the file given is another.
   */
  private void policies(List<String> store, String current, Path lenient) throws Exception {
    Cli none = run(store, "audit", "fashion-cnn", "--data", current, "--bootstrap", "50");
    assertThat(none.exitCode()).as(none.err() + none.out()).isEqualTo(3);
    assertThat(none.err())
        .contains(
            "--policy: is required: fashion-cnn has no registered policy for production or for"
                + " every stage")
        .contains("quantguard registry policy set fashion-cnn --policy FILE");
    Cli empty = run(store, "registry", "policy", "show", "fashion-cnn");
    assertThat(empty.exitCode()).as(empty.err()).isZero();
    assertThat(empty.out()).contains("No policy   fashion-cnn has none");

    String lenientSha = sha256(lenient);
    Cli set =
        run(
            store,
            "registry",
            "policy",
            "set",
            "fashion-cnn",
            "--policy",
            lenient.toString(),
            "--reason",
            "release gate",
            "--actor",
            "alice");
    assertThat(set.exitCode()).as(set.err()).isZero();
    assertThat(set.out())
        .contains("Policy      fashion-cnn (every stage): lenient, 2 rules, sha256 " + lenientSha)
        .contains("Replaces    none (the first policy for every stage)")
        .containsPattern("Recorded    change #\\d+ by alice: release gate");
    assertThat(
            run(store, "registry", "policy", "set", "fashion-cnn", "--policy", lenient.toString())
                .exitCode())
        .as("--reason is required")
        .isEqualTo(2);
    Cli same =
        run(
            store,
            "registry",
            "policy",
            "set",
            "fashion-cnn",
            "--policy",
            lenient.toString(),
            "--reason",
            "again",
            "--actor",
            "bob");
    assertThat(same.exitCode()).as(same.err()).isZero();
    assertThat(same.out())
        .contains("Unchanged   fashion-cnn (every stage) has this policy already")
        .contains("nothing recorded");
    Path malformed =
        Files.writeString(tmp.resolve("malformed.yaml"), "rules:\n  accuracy: {max_dorp: 1%}\n");
    Cli bad =
        run(
            store,
            "registry",
            "policy",
            "set",
            "fashion-cnn",
            "--policy",
            malformed.toString(),
            "--reason",
            "typo",
            "--actor",
            "bob");
    assertThat(bad.exitCode()).isEqualTo(3);
    assertThat(bad.err()).contains("malformed.yaml").contains("max_dorp");

    Cli show = run(store, "registry", "policy", "show", "fashion-cnn");
    assertThat(show.exitCode()).as(show.err()).isZero();
    assertThat(show.out())
        .contains("Policy      fashion-cnn (every stage): lenient, 2 rules")
        .contains("SHA-256     " + lenientSha)
        .contains("by alice from " + lenient + ": release gate")
        .contains("    rules:\n      accuracy:");

    // A change: the log records the old and the new hash with each reason.
    Path release =
        Files.writeString(
            tmp.resolve("release.yaml"),
            "name: release\nrules:\n  accuracy: {max_drop: 2%}\n  flip_rate: {max: 10%}\n");
    String releaseSha = sha256(release);
    Cli change =
        run(
            store,
            "registry",
            "policy",
            "set",
            "fashion-cnn",
            "--policy",
            release.toString(),
            "--reason",
            "watch flips too",
            "--actor",
            "bob",
            "--json");
    assertThat(change.exitCode()).as(change.err()).isZero();
    JsonNode changed = JSON.readTree(change.out());
    assertThat(changed.get("changed").asBoolean()).isTrue();
    assertThat(changed.get("sha256").asText()).isEqualTo(releaseSha);
    assertThat(changed.get("previousSha256").asText()).isEqualTo(lenientSha);
    String lenientLine =
        "policy    fashion-cnn (every stage) lenient.yaml sha256 "
            + lenientSha.substring(0, 12)
            + " (was none)  \"release gate\"";
    String releaseLine =
        "policy    fashion-cnn (every stage) release.yaml sha256 "
            + releaseSha.substring(0, 12)
            + " (was "
            + lenientSha.substring(0, 12)
            + ")  \"watch flips too\"";
    Cli policyLog = run(store, "registry", "policy", "log", "fashion-cnn");
    assertThat(policyLog.exitCode()).as(policyLog.err()).isZero();
    assertThat(policyLog.out().lines().toList())
        .as("the no-op and the malformed policy left no entry")
        .hasSize(2);
    assertThat(policyLog.out()).contains(lenientLine).contains(releaseLine);
    assertThat(run(store, "registry", "log", "fashion-cnn").out())
        .contains(lenientLine)
        .contains(releaseLine);
    JsonNode shown =
        JSON.readTree(run(store, "registry", "policy", "show", "fashion-cnn", "--json").out());
    assertThat(shown.get("policies")).hasSize(1);
    assertThat(shown.get("policies").get(0).get("sha256").asText()).isEqualTo(releaseSha);
    assertThat(shown.get("policies").get(0).get("setBy").asText()).isEqualTo("bob");
    Cli old =
        run(
            store,
            "registry",
            "policy",
            "show",
            "fashion-cnn",
            "--sha256",
            lenientSha.substring(0, 12));
    assertThat(old.exitCode()).as(old.err()).isZero();
    assertThat(old.out()).contains("SHA-256     " + lenientSha).contains("max_drop: 9%");

    // An audit without --policy judges the registered one and records its hash.
    Cli audit =
        run(
            store,
            "audit",
            "fashion-cnn",
            "--data",
            current,
            "--bootstrap",
            "50",
            "--actor",
            "cron");
    assertThat(audit.exitCode()).as(audit.err() + audit.out()).isZero();
    assertThat(audit.err()).doesNotContain("warning");
    assertThat(audit.out())
        .contains(
            "Judged by   fashion-cnn's registered policy for every stage, sha256 " + releaseSha)
        .contains("Policy release: PASSED");
    // With a file that is not the registered policy: judged, with a warning and both hashes.
    Cli other =
        run(
            store,
            "audit",
            "fashion-cnn",
            "--data",
            current,
            "--policy",
            lenient.toString(),
            "--bootstrap",
            "50",
            "--actor",
            "cron");
    assertThat(other.exitCode()).as(other.err() + other.out()).isZero();
    assertThat(other.err())
        .contains("warning: --policy " + lenient + " (sha256 " + lenientSha.substring(0, 12))
        .contains("is not fashion-cnn's registered policy for every stage (release");
    JsonNode entries =
        JSON.readTree(run(store, "registry", "log", "fashion-cnn", "--limit", "2", "--json").out())
            .get("entries");
    JsonNode viaRegistry = entries.get(0).get("details");
    assertThat(viaRegistry.get("policySha256").asText()).isEqualTo(releaseSha);
    assertThat(viaRegistry.get("policyFrom").asText()).isEqualTo("registry");
    assertThat(viaRegistry.get("policy").asText()).isEqualTo("release (registered)");
    JsonNode viaFile = entries.get(1).get("details");
    assertThat(viaFile.get("policySha256").asText()).isEqualTo(lenientSha);
    assertThat(viaFile.get("registeredPolicySha256").asText()).isEqualTo(releaseSha);
    assertThat(run(store, "registry", "log", "fashion-cnn", "--limit", "1").out())
        .contains(
            "passed lenient.yaml sha256 "
                + lenientSha.substring(0, 12)
                + ", not the registered "
                + releaseSha.substring(0, 12));
  }

  /** SHA-256 of a file's bytes, computed here independently of the registry. */
  private static String sha256(Path file) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  private String stage(List<String> store, int version) throws Exception {
    Cli s = run(store, "registry", "show", "fashion-cnn@" + version, "--json");
    assertThat(s.exitCode()).as(s.err()).isZero();
    return JSON.readTree(s.out()).get("stage").asText();
  }

  private static Path blobFile(Path blobs, String sha) throws Exception {
    try (Stream<Path> s = Files.walk(blobs)) {
      return s.filter(p -> p.getFileName().toString().equals(sha)).findFirst().orElseThrow();
    }
  }

  private static Cli run(List<String> store, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(store);
    return Cli.run(all.toArray(String[]::new));
  }
}
