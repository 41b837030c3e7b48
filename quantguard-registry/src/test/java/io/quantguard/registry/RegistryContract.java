package io.quantguard.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.onnx.QuantizationProvenance;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every registry database must do; run on SQLite always ({@link SqliteRegistryTest}) and on
 * PostgreSQL when {@code QG_TEST_POSTGRES_URL} is set ({@link PostgresRegistryTest}).
 */
abstract class RegistryContract {
  @TempDir Path tmp;

  String location;
  Path blobDir;
  Registry registry;

  /** A new, empty registry location for one test. */
  abstract String newLocation();

  @BeforeEach
  void open() {
    location = newLocation();
    blobDir = tmp.resolve("blobs");
    registry = Registry.open(location, new FileBlobStore(blobDir));
  }

  private ArtifactVersion register(Path file, String model, String parent, String actor) {
    return registry.register(new Registration(file, model, parent, null, null, "test", actor));
  }

  @Test
  void registersVersionsWithTheirLineage() throws Exception {
    Path fp32 = TinyModels.fp32(tmp.resolve("tiny-fp32.onnx"), 1);
    Path int8 =
        TinyModels.recorded(fp32, tmp.resolve("tiny-int8.onnx"), TinyModels.dynamicProvenance());
    Path report = Files.writeString(tmp.resolve("report.json"), MINIMAL_REPORT);

    ArtifactVersion base = register(fp32, "tiny", null, "alice");
    assertThat(base.version()).isEqualTo(1);
    assertThat(base.stage()).isEqualTo(Stage.CANDIDATE);
    assertThat(base.quantized()).isFalse();
    assertThat(base.parent()).isNull();
    assertThat(base.sizeBytes()).isEqualTo(Files.size(fp32));
    assertThat(base.environment()).as("not quantized: no quantizing environment").isNull();

    ArtifactVersion q =
        registry.register(
            new Registration(int8, "tiny", "tiny@1", null, report, "dynamic int8", "alice"));
    Map<String, String> meta = ModelIO.load(int8).metadata();
    assertThat(q.version()).isEqualTo(2);
    assertThat(q.parent()).isEqualTo(ArtifactRef.of("tiny", 1));
    assertThat(q.mode()).isEqualTo("dynamic");
    assertThat(q.recipeSha256()).isEqualTo(meta.get(QuantizationProvenance.RECIPE_SHA));
    assertThat(q.recipeJson()).isEqualTo(meta.get(QuantizationProvenance.RECIPE));
    assertThat(q.toolVersion()).isEqualTo(QuantGuard.VERSION);
    assertThat(q.provenance()).isEqualTo(TinyModels.dynamicProvenance());
    assertThat(q.environment())
        .as("where it was quantized, not where it was registered")
        .isEqualTo(TinyModels.ELSEWHERE);
    assertThat(registry.version(q.ref())).as("as stored and read back").isEqualTo(q);
    assertThat(q.calibrationFingerprint()).isNull();
    assertThat(q.reportSha256()).isNotNull();
    assertThat(registry.report(q)).contains(MINIMAL_REPORT);
    assertThat(registry.modelBytes(q.ref())).isEqualTo(Files.readAllBytes(int8));

    // A parent named by its file; another model name.
    ArtifactVersion other =
        registry.register(
            new Registration(
                TinyModels.recorded(
                    fp32, tmp.resolve("other.onnx"), TinyModels.dynamicProvenance()),
                "tiny-int8",
                fp32.toString(),
                null,
                null,
                null,
                "bob"));
    assertThat(other.parent()).isEqualTo(ArtifactRef.of("tiny", 1));

    assertThatThrownBy(() -> register(int8, "tiny", null, "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("already registered as tiny@2");
    Path unregistered = TinyModels.fp32(tmp.resolve("nobody.onnx"), 99);
    assertThatThrownBy(() -> register(int8, "x", unregistered.toString(), "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not registered");

    Lineage all = registry.lineage(ArtifactRef.parse("tiny"));
    assertThat(all.versions())
        .extracting(v -> v.ref().toString())
        .containsExactly("tiny@1", "tiny@2", "tiny-int8@1");
    assertThat(all.edges()).hasSize(2);
    String tree = all.render();
    assertThat(tree.lines().toList()).hasSize(3);
    assertThat(tree).startsWith("tiny@1  candidate  float");
    assertThat(tree).contains("├── tiny@2  candidate  dynamic").contains("└── tiny-int8@1");
    Lineage one = registry.lineage(ArtifactRef.parse("tiny@2"));
    assertThat(one.versions())
        .extracting(v -> v.ref().toString())
        .containsExactly("tiny@1", "tiny@2");

    assertThat(registry.models())
        .extracting(ModelOverview::name, ModelOverview::versions, ModelOverview::latest)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("tiny", 2, 2),
            org.assertj.core.groups.Tuple.tuple("tiny-int8", 1, 1));
    List<ChangeLogEntry> log = registry.log("tiny", 10);
    assertThat(log).extracting(ChangeLogEntry::action).containsOnly(Action.REGISTER);
    assertThat(log).extracting(ChangeLogEntry::actor).containsOnly("alice");
    assertThat(log.get(1).details()).containsEntry("parent", "tiny@1");
    assertThat(registry.log(null, 100)).extracting(ChangeLogEntry::seq).containsExactly(1L, 2L, 3L);
  }

  @Test
  void promotesRollsBackAndUndoesWithReasons() {
    for (int seed = 1; seed <= 3; seed++) {
      register(TinyModels.fp32(tmp.resolve("m" + seed + ".onnx"), seed), "m", null, "alice");
    }
    assertThatThrownBy(
            () -> registry.promote(ArtifactRef.parse("m@1"), Stage.PRODUCTION, " ", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("change.reason: is required");
    ChangeLogEntry p1 =
        registry.promote(ArtifactRef.parse("m@1"), Stage.PRODUCTION, "first release", "alice");
    assertThat(p1.previousVersion()).isNull();
    ChangeLogEntry p2 =
        registry.promote(ArtifactRef.parse("m@2"), Stage.PRODUCTION, "better", "alice");
    assertThat(p2.previousVersion()).isEqualTo(1);
    assertThat(stages()).containsExactly(Stage.ARCHIVED, Stage.PRODUCTION, Stage.CANDIDATE);
    registry.promote(ArtifactRef.parse("m@3"), Stage.CANARY, "try it", "carol");
    assertThat(registry.version(ArtifactRef.parse("m@canary")).version()).isEqualTo(3);
    assertThatThrownBy(
            () -> registry.promote(ArtifactRef.parse("m@3"), Stage.CANARY, "again", "carol"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("already canary");

    ChangeLogEntry back = registry.rollback("m", null, "accuracy alarm", "oncall");
    assertThat(back.action()).isEqualTo(Action.ROLLBACK);
    assertThat(back.version()).isEqualTo(1);
    assertThat(back.previousVersion()).isEqualTo(2);
    assertThat(back.reason()).isEqualTo("accuracy alarm");
    assertThat(stages()).containsExactly(Stage.PRODUCTION, Stage.ARCHIVED, Stage.CANARY);
    assertThat(registry.version(ArtifactRef.parse("m@production")).version()).isEqualTo(1);

    ChangeLogEntry undo = registry.rollback("m", null, "false alarm", "oncall");
    assertThat(undo.version()).isEqualTo(2);
    assertThat(stages()).containsExactly(Stage.ARCHIVED, Stage.PRODUCTION, Stage.CANARY);

    registry.rollback("m", 3, "canary is the fix", "oncall");
    assertThat(stages()).containsExactly(Stage.ARCHIVED, Stage.ARCHIVED, Stage.PRODUCTION);
    assertThatThrownBy(() -> registry.version(ArtifactRef.parse("m@canary")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no version of m is in canary");
    assertThatThrownBy(() -> registry.rollback("m", 3, "x", "oncall"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("already in production");
    assertThatThrownBy(() -> registry.rollback("m", 9, "x", "oncall"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no version 9");
    assertThatThrownBy(() -> registry.rollback("m", null, null, "oncall"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("change.reason: is required");

    assertThat(registry.log("m", 100))
        .extracting(ChangeLogEntry::action)
        .containsExactly(
            Action.REGISTER,
            Action.REGISTER,
            Action.REGISTER,
            Action.PROMOTE,
            Action.PROMOTE,
            Action.PROMOTE,
            Action.ROLLBACK,
            Action.ROLLBACK,
            Action.ROLLBACK);
    // Failed attempts leave no trace and no gap.
    assertThat(registry.log("m", 100))
        .extracting(ChangeLogEntry::seq)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
  }

  @Test
  void refusesUnknownModelsAndVersions() {
    assertThatThrownBy(() -> registry.version(ArtifactRef.parse("ghost@1")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("ghost: is not a model in the registry");
    register(TinyModels.fp32(tmp.resolve("a.onnx"), 1), "a", null, "alice");
    assertThatThrownBy(() -> registry.version(ArtifactRef.parse("a@7")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("there is no version 7 (versions 1 to 1)");
    assertThatThrownBy(() -> ArtifactRef.parse("a@archived"))
        .isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> register(tmp.resolve("missing.onnx"), "a", null, "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("missing.onnx");
    assertThatThrownBy(() -> registry.rollback("a", null, "why", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("has no version in production");
  }

  @Test
  void registersAModelQuantizedBeforeProvenanceWasTypedFromItsOldKeys() {
    Path fp32 = TinyModels.fp32(tmp.resolve("o-fp32.onnx"), 4);
    register(fp32, "o", null, "alice");
    String recipe = "{\"calibration\":{\"samples\":64},\"mode\":\"static\"}";
    Path old =
        TinyModels.withMetadata(
            fp32,
            tmp.resolve("o-int8.onnx"),
            Map.of(
                QuantizationProvenance.VERSION,
                "0.1.0-SNAPSHOT",
                QuantizationProvenance.RECIPE,
                recipe,
                QuantizationProvenance.RECIPE_SHA,
                "ab".repeat(32),
                QuantizationProvenance.FINGERPRINT,
                "cd".repeat(32),
                QuantizationProvenance.SAMPLES,
                "64"));
    ArtifactVersion v = register(old, "o", "o@1", "alice");
    assertThat(v.quantized()).isTrue();
    assertThat(v.mode()).as("read from the recipe").isEqualTo("static");
    assertThat(v.calibrationSamples()).isEqualTo(64L);
    assertThat(v.calibrationFingerprint()).isEqualTo("cd".repeat(32));
    assertThat(v.toolVersion()).isEqualTo("0.1.0-SNAPSHOT");
    assertThat(v.environment()).as("the old keys do not say where").isNull();
    assertThat(v.calibrationSession()).isNull();
    assertThat(registry.version(v.ref())).isEqualTo(v);

    // A recipe given with it must be the one it records.
    assertThatThrownBy(
            () ->
                registry.register(
                    new Registration(
                        old,
                        "o2",
                        null,
                        new Registration.Recipe(recipe, "ef".repeat(32), "static"),
                        null,
                        null,
                        "alice")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("recipe: is not the recipe");
    // A model that records none takes the recipe given.
    ArtifactVersion given =
        registry.register(
            new Registration(
                TinyModels.fp32(tmp.resolve("o-plain.onnx"), 5),
                "o",
                "o@1",
                new Registration.Recipe(recipe, "ab".repeat(32), "static"),
                null,
                null,
                "alice"));
    assertThat(given.recipeJson()).isEqualTo(recipe);
    assertThat(given.toolVersion()).isNull();
  }

  @Test
  void refusesABlobModifiedOnDisk() throws IOException {
    Path fp32 = TinyModels.fp32(tmp.resolve("c.onnx"), 3);
    ArtifactVersion v = register(fp32, "c", null, "alice");
    Path blob = new FileBlobStore(blobDir).path(v.sha256());
    byte[] bytes = Files.readAllBytes(blob);
    bytes[bytes.length / 2] ^= 0x01; // one bit
    Files.write(blob, bytes);

    assertThatThrownBy(() -> registry.modelBytes(v.ref()))
        .isInstanceOf(CorruptBlobException.class)
        .hasMessageContaining("c@1's model (" + blob + ")")
        .hasMessageContaining("is corrupted: its bytes hash to sha256 ")
        .hasMessageContaining("refuses to serve it");
    Path out = tmp.resolve("out").resolve("c.onnx");
    assertThatThrownBy(() -> registry.export(v.ref(), out))
        .isInstanceOf(CorruptBlobException.class);
    assertThat(out).doesNotExist();
    try (Stream<Path> s = Files.list(out.getParent())) {
      assertThat(s).isEmpty(); // no temporary left either
    }

    Files.delete(blob);
    assertThatThrownBy(() -> registry.modelBytes(v.ref()))
        .isInstanceOf(CorruptBlobException.class)
        .hasMessageContaining("is missing from the blob store");

    // Registering the original file again restores the blob (the version stays as it was).
    assertThatThrownBy(() -> register(fp32, "c", null, "alice"))
        .hasMessageContaining("already registered as c@1");
    assertThat(registry.modelBytes(v.ref())).isEqualTo(Files.readAllBytes(fp32));
  }

  @Test
  void keepsTheChangeLogAppendOnly() throws SQLException {
    register(TinyModels.fp32(tmp.resolve("a.onnx"), 1), "a", null, "alice");
    try (Connection c = Database.parse(location).connect();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.executeUpdate("UPDATE change_log SET actor = 'mallory'"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> s.executeUpdate("DELETE FROM change_log"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("append-only");
    }
    assertThat(registry.log(null, 10)).extracting(ChangeLogEntry::actor).containsExactly("alice");
  }

  // ---------------------------------------------------------------- policies

  @Test
  void keepsAPolicyPerModelAndStageWithEveryChangeInTheLog() throws Exception {
    register(TinyModels.fp32(tmp.resolve("a.onnx"), 1), "a", null, "alice");
    assertThat(registry.policies("a")).isEmpty();
    assertThat(registry.policyFor("a", Stage.PRODUCTION)).isEmpty();

    String v1 = "rules:\n  accuracy: {max_drop: 1%}\n";
    PolicyChange first =
        registry.setPolicy("a", null, v1, "policies/release.yaml", "first gate", "alice");
    assertThat(first.changed()).isTrue();
    assertThat(first.previousSha256()).isNull();
    assertThat(first.policy().sha256()).isEqualTo(sha256(v1));
    assertThat(first.policy().name()).isEqualTo("release");
    assertThat(first.policy().stage()).isNull();
    ChangeLogEntry e1 = first.entry();
    assertThat(e1.action()).isEqualTo(Action.POLICY);
    assertThat(e1.actor()).isEqualTo("alice");
    assertThat(e1.reason()).isEqualTo("first gate");
    assertThat(e1.version()).isNull();
    assertThat(e1.stage()).isNull();
    assertThat(e1.details())
        .containsEntry("sha256", sha256(v1))
        .containsEntry("previousSha256", null)
        .containsEntry("source", "policies/release.yaml")
        .containsEntry("rules", 1);

    // The same text again is a no-op: nothing recorded, the policy keeps its who and why.
    PolicyChange again = registry.setPolicy("a", null, v1, "copy.yaml", "again", "bob");
    assertThat(again.changed()).isFalse();
    assertThat(again.entry()).isNull();
    assertThat(again.policy().setBy()).isEqualTo("alice");
    assertThat(again.policy().reason()).isEqualTo("first gate");
    assertThat(again.policy().changeSeq()).isEqualTo(e1.seq());

    // A change records the old and the new hash.
    String v2 = "name: strict\nrules:\n  accuracy: {max_drop: 0.5%}\n  flip_rate: {max: 2%}\n";
    PolicyChange second = registry.setPolicy("a", null, v2, "release.yaml", "tighter", "bob");
    assertThat(second.changed()).isTrue();
    assertThat(second.previousSha256()).isEqualTo(sha256(v1));
    assertThat(second.entry().details())
        .containsEntry("sha256", sha256(v2))
        .containsEntry("previousSha256", sha256(v1))
        .containsEntry("name", "strict");

    // A policy for production only; the other stages keep the model's.
    String prod = "rules:\n  size: {max_ratio: 0.3}\n";
    PolicyChange p =
        registry.setPolicy("a", Stage.PRODUCTION, prod, null, "size counts in production", "carol");
    assertThat(p.previousSha256()).isNull(); // the first for production
    assertThat(p.entry().stage()).isEqualTo(Stage.PRODUCTION);
    assertThat(registry.policyFor("a", Stage.PRODUCTION).orElseThrow().sha256())
        .isEqualTo(sha256(prod));
    assertThat(registry.policyFor("a", Stage.CANARY).orElseThrow().sha256()).isEqualTo(sha256(v2));
    assertThat(registry.policies("a"))
        .extracting(ModelPolicy::stage)
        .containsExactly(null, Stage.PRODUCTION);
    ModelPolicy any = registry.policy("a", null).orElseThrow();
    assertThat(any.text()).isEqualTo(v2);
    assertThat(any.setBy()).isEqualTo("bob");
    assertThat(any.reason()).isEqualTo("tighter");
    assertThat(any.policy().name()).isEqualTo("strict");
    assertThat(any.policy().rules()).hasSize(2);
    assertThat(registry.policy("a", Stage.CANARY)).isEmpty();

    // Refused, with nothing stored: a malformed policy, no reason, an unknown model.
    int texts = count("policy");
    assertThatThrownBy(
            () ->
                registry.setPolicy(
                    "a", null, "rules:\n  accuracy: {max_dorp: 1%}\n", "bad.yaml", "x", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("bad.yaml")
        .hasMessageContaining("max_dorp");
    assertThatThrownBy(() -> registry.setPolicy("a", null, "rules: [\n", "bad.yaml", "x", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is not valid YAML");
    assertThatThrownBy(() -> registry.setPolicy("a", null, prod, "p.yaml", " ", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("change.reason: is required");
    assertThatThrownBy(() -> registry.setPolicy("ghost", null, prod, "p.yaml", "x", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("ghost: is not a model in the registry");
    assertThat(count("policy")).isEqualTo(texts).isEqualTo(3);
    assertThat(registry.policy("a", null).orElseThrow().sha256()).isEqualTo(sha256(v2));

    // The log: no gap where the no-op and the refusals were; the policy entries alone on request.
    assertThat(registry.log("a", 100))
        .extracting(ChangeLogEntry::seq)
        .containsExactly(1L, 2L, 3L, 4L);
    assertThat(registry.log("a", Action.POLICY, 100))
        .extracting(ChangeLogEntry::reason)
        .containsExactly("first gate", "tighter", "size counts in production");
    // Every text stays readable by the hash the log records (or a prefix of it).
    assertThat(registry.policyText(sha256(v1).substring(0, 12)))
        .isEqualTo(Map.entry(sha256(v1), v1));
    assertThatThrownBy(() -> registry.policyText("00000000"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("names no policy text");

    // An audit records the judged policy's hash and the registered one for the version's stage.
    ChangeLogEntry audit =
        registry.recordAudit(
            ArtifactRef.parse("a@1"), true, sha256(v1), "scheduled", Map.of("policy", "x"), "cron");
    assertThat(audit.details())
        .containsEntry("policySha256", sha256(v1))
        .containsEntry("registeredPolicySha256", sha256(v2))
        .containsEntry("registeredPolicyFor", "every stage");
    registry.promote(ArtifactRef.parse("a@1"), Stage.PRODUCTION, "release", "alice");
    assertThat(
            registry
                .recordAudit(
                    ArtifactRef.parse("a@1"), false, sha256(prod), "alarm", Map.of(), "cron")
                .details())
        .containsEntry("policySha256", sha256(prod))
        .containsEntry("registeredPolicySha256", sha256(prod))
        .containsEntry("registeredPolicyFor", "production");
  }

  @Test
  void keepsPolicyTextsAppendOnly() throws SQLException {
    register(TinyModels.fp32(tmp.resolve("a.onnx"), 1), "a", null, "alice");
    String text = "rules:\n  accuracy: {max_drop: 1%}\n";
    registry.setPolicy("a", null, text, "p.yaml", "first", "alice");
    try (Connection c = Database.parse(location).connect();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.executeUpdate("UPDATE policy SET text = 'rules: {}'"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> s.executeUpdate("DELETE FROM policy"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("append-only");
    }
    assertThat(registry.policy("a", null).orElseThrow().text()).isEqualTo(text);
  }

  private int count(String table) throws SQLException {
    try (Connection c = Database.parse(location).connect();
        Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** SHA-256 of the UTF-8 bytes, computed here independently of the registry. */
  private static String sha256(String text) throws java.security.NoSuchAlgorithmException {
    return java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  // ---------------------------------------------------------------- reliability, separate JVMs

  @Test
  void serializesPromotionsFromTwoProcessesWithoutLosingOne() throws Exception {
    for (int seed = 1; seed <= 4; seed++) {
      register(TinyModels.fp32(tmp.resolve("p" + seed + ".onnx"), seed), "p", null, "setup");
    }
    int n = 15;
    Path go = tmp.resolve("go");
    Process a =
        child("promote", location, blobDir.toString(), go.toString(), "p", "" + n, "1", "2");
    Process b =
        child("promote", location, blobDir.toString(), go.toString(), "p", "" + n, "3", "4");
    BufferedReader outA = reader(a);
    BufferedReader outB = reader(b);
    assertThat(outA.readLine()).isEqualTo("READY");
    assertThat(outB.readLine()).isEqualTo("READY");
    Files.createFile(go); // both start at once
    String seqsA = awaitLine(a, outA, "SEQS ");
    String seqsB = awaitLine(b, outB, "SEQS ");

    List<ChangeLogEntry> promotes =
        registry.log("p", 1000).stream().filter(e -> e.action() == Action.PROMOTE).toList();
    assertThat(promotes).hasSize(2 * n); // both recorded, every one
    assertThat(promotes)
        .extracting(ChangeLogEntry::actor)
        .containsOnly("child-" + a.pid(), "child-" + b.pid());
    List<Long> all = new ArrayList<>();
    all.addAll(parseSeqs(seqsA));
    all.addAll(parseSeqs(seqsB));
    assertThat(all)
        .doesNotHaveDuplicates()
        .hasSize(2 * n)
        .containsExactlyInAnyOrderElementsOf(promotes.stream().map(ChangeLogEntry::seq).toList());
    // Serialized: each promotion saw the one before it as the production it displaced.
    assertThat(promotes.get(0).previousVersion()).isNull();
    for (int i = 1; i < promotes.size(); i++) {
      assertThat(promotes.get(i).previousVersion())
          .as("entry %d", promotes.get(i).seq())
          .isEqualTo(promotes.get(i - 1).version());
    }
    int last = promotes.get(promotes.size() - 1).version();
    assertThat(registry.versions("p"))
        .allSatisfy(
            v ->
                assertThat(v.stage())
                    .isEqualTo(v.version() == last ? Stage.PRODUCTION : Stage.ARCHIVED));
  }

  @Test
  void aRegisterKilledDuringTheBlobWriteLeavesNothingVisible() throws Exception {
    Path fp32 = TinyModels.fp32(tmp.resolve("big.onnx"), 7, 256); // 256 KiB, written slowly
    Process p = child("register-slow", location, blobDir.toString(), fp32.toString(), "k");
    awaitLine(p, reader(p), "WRITING");
    Thread.sleep(300);
    p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

    assertThat(registry.models()).isEmpty();
    assertThat(blobFiles()).isEmpty();
    ArtifactVersion v = register(fp32, "k", null, "alice"); // the next command works
    assertThat(v.version()).isEqualTo(1);
    assertThat(registry.modelBytes(v.ref())).isEqualTo(Files.readAllBytes(fp32));
  }

  @Test
  void aRegisterKilledBetweenBlobAndCommitLeavesNothingVisible() throws Exception {
    Path fp32 = TinyModels.fp32(tmp.resolve("k.onnx"), 8);
    register(TinyModels.fp32(tmp.resolve("first.onnx"), 9), "k", null, "alice");
    Process p = child("register-stall", location, blobDir.toString(), fp32.toString(), "k");
    String stored = awaitLine(p, reader(p), "BLOB-STORED ");
    p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

    assertThat(blobFiles()).hasSize(2); // the orphan blob is on disk but nothing names it
    assertThat(registry.versions("k")).hasSize(1);
    assertThat(registry.log("k", 10)).hasSize(1);
    ArtifactVersion v = register(fp32, "k", null, "alice");
    assertThat(v.version()).isEqualTo(2);
    assertThat(v.sha256()).isEqualTo(stored.substring("BLOB-STORED ".length()));
    assertThat(registry.log(null, 10)).extracting(ChangeLogEntry::seq).containsExactly(1L, 2L);
  }

  private List<Path> blobFiles() throws IOException {
    try (Stream<Path> s = Files.walk(blobDir.resolve("sha256"))) {
      return s.filter(Files::isRegularFile).toList();
    }
  }

  private List<Stage> stages() {
    return registry.versions("m").stream().map(ArtifactVersion::stage).toList();
  }

  private static List<Long> parseSeqs(String line) {
    String body = line.substring("SEQS [".length(), line.length() - 1);
    return Stream.of(body.split(",\\s*")).map(Long::parseLong).toList();
  }

  private Process child(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add(RegistryChild.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd)
        .redirectError(tmp.resolve("child-" + System.nanoTime() + ".err").toFile())
        .start();
  }

  private static BufferedReader reader(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Reads the child's output until a line starts with {@code prefix}; fails if it exits first. */
  private String awaitLine(Process p, BufferedReader out, String prefix) throws Exception {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(prefix)) {
        return line;
      }
    }
    p.waitFor(30, TimeUnit.SECONDS);
    String err = "";
    try (Stream<Path> s = Files.list(tmp)) {
      for (Path f : s.filter(f -> f.getFileName().toString().endsWith(".err")).toList()) {
        err += Files.readString(f);
      }
    }
    throw new AssertionError(
        "child exited (" + p.exitValue() + ") before printing " + prefix + ":\n" + err);
  }

  static final String MINIMAL_REPORT =
      "{\"schema\":\"quantguard.evaluate/1\",\"data\":[],\"warnings\":[],\"models\":["
          + "{\"name\":\"a\",\"role\":\"baseline\",\"slices\":[{\"slice\":\"all\",\"samples\":1,"
          + "\"metrics\":[],\"figures\":{}}]}]}";

  @Test
  void keepsADriftProfilePerVersionWithEveryChangeInTheLog() throws Exception {
    register(TinyModels.fp32(tmp.resolve("p1.onnx"), 1), "prof", null, "alice");
    assertThat(registry.profile(ArtifactRef.of("prof", 1))).isEmpty();
    Path notProfile = Files.writeString(tmp.resolve("report.json"), MINIMAL_REPORT);
    assertThatThrownBy(
            () -> registry.setProfile(ArtifactRef.of("prof", 1), notProfile, "ref", "alice"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("has schema quantguard.evaluate/1");
    Path first =
        Files.writeString(
            tmp.resolve("a.json"), "{\"schema\":\"quantguard.drift-profile/1\",\"samples\":1}");
    Path second =
        Files.writeString(
            tmp.resolve("b.json"), "{\"schema\":\"quantguard.drift-profile/1\",\"samples\":2}");
    String a = registry.setProfile(ArtifactRef.of("prof", 1), first, "training images", "alice");
    assertThat(registry.setProfile(ArtifactRef.of("prof", 1), first, "again", "alice"))
        .isEqualTo(a);
    String b = registry.setProfile(ArtifactRef.of("prof", 1), second, "new reference", "bob");
    assertThat(registry.profile(ArtifactRef.of("prof", 1))).contains(Files.readString(second));
    List<ChangeLogEntry> log = registry.log("prof", Action.PROFILE, 10);
    assertThat(log).as("the unchanged store wrote nothing").hasSize(2);
    assertThat(log.get(1).details()).containsEntry("profileSha256", b);
    assertThat(log.get(1).details()).containsEntry("previousSha256", a);
    assertThat(log.get(1).reason()).isEqualTo("new reference");
  }

  @Test
  void keepsTheNewestDriftWindowsOfAModelOutsideTheChangeLog() throws Exception {
    register(TinyModels.fp32(tmp.resolve("w1.onnx"), 1), "win", null, "alice");
    int changes = registry.log("win", 100).size();
    for (int i = 1; i <= 5; i++) {
      registry.keepDriftWindow("win", "{\"n\":" + i + "}", 3);
    }
    assertThat(registry.driftWindows("win", 10))
        .containsExactly("{\"n\":3}", "{\"n\":4}", "{\"n\":5}");
    assertThat(registry.driftWindows("win", 1)).containsExactly("{\"n\":5}");
    assertThat(registry.log("win", 100)).as("no change-log entry").hasSize(changes);
    assertThatThrownBy(() -> registry.keepDriftWindow("nope", "{}", 3))
        .isInstanceOf(InvalidInputException.class);
  }

  @Test
  void recordsAVariantSwitchWithTheMeasuredReason() throws Exception {
    register(TinyModels.fp32(tmp.resolve("v1.onnx"), 1), "var", null, "alice");
    register(TinyModels.fp32(tmp.resolve("v2.onnx"), 2), "var", null, "alice");
    ChangeLogEntry e =
        registry.recordVariantSwitch(
            ArtifactRef.of("var", 2),
            1,
            "p95 80 ms breaks the objective p95 <= 50 ms",
            Map.of("direction", "faster", "percentile_ms", 80.0),
            "serve");
    List<ChangeLogEntry> log = registry.log("var", Action.VARIANT, 10);
    assertThat(log).containsExactly(e);
    assertThat(e.version()).isEqualTo(2);
    assertThat(e.previousVersion()).isEqualTo(1);
    assertThat(e.actor()).isEqualTo("serve");
    assertThat(e.details()).containsEntry("direction", "faster");
    assertThatThrownBy(
            () -> registry.recordVariantSwitch(ArtifactRef.of("var", 9), 1, "r", Map.of(), "serve"))
        .isInstanceOf(InvalidInputException.class);
  }

  @Test
  void aRolloutKeepsItsStateAndEndsInThePromotionOrRollbackEntry() throws Exception {
    register(TinyModels.fp32(tmp.resolve("r1.onnx"), 1), "roll", null, "alice");
    register(TinyModels.fp32(tmp.resolve("r2.onnx"), 2), "roll", null, "alice");
    register(TinyModels.fp32(tmp.resolve("r3.onnx"), 3), "roll", null, "alice");
    String policy = "name: live\nrules:\n  flip_rate: {max: 2%}\n";
    assertThatThrownBy(
            () ->
                registry.startRollout(
                    ArtifactRef.of("roll", 2), "canary", "{}", policy, "live.yaml", "try", "bob"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("no version in production");
    registry.promote(ArtifactRef.of("roll", 1), Stage.PRODUCTION, "baseline", "alice");

    RolloutRecord r =
        registry.startRollout(
            ArtifactRef.of("roll", 2),
            "canary",
            "{\"steps\":[5,100]}",
            policy,
            "live.yaml",
            "canary int8",
            "bob");
    assertThat(r.baseline()).isEqualTo(1);
    assertThat(r.status()).isEqualTo(RolloutRecord.Status.RUNNING);
    assertThat(registry.version(ArtifactRef.of("roll", 2)).stage()).isEqualTo(Stage.CANARY);
    assertThatThrownBy(
            () ->
                registry.startRollout(
                    ArtifactRef.of("roll", 3), "canary", "{}", policy, "live.yaml", "x", "bob"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("already being rolled out");

    RolloutRecord stepped =
        registry.recordRollout(
            r.id(),
            new RolloutChange(
                "step_up", RolloutRecord.Status.RUNNING, 1, 0, "holds", Map.of("flip_rate", 0.01)),
            "server");
    // Read back from the database, as a restarted server would.
    RolloutRecord again = registry.activeRollout("roll").orElseThrow();
    assertThat(again).isEqualTo(stepped);
    assertThat(again.step()).isEqualTo(1);
    assertThat(again.policyText()).isEqualTo(policy);
    assertThat(again.settings()).isEqualTo("{\"steps\":[5,100]}");

    registry.recordRollout(
        r.id(),
        new RolloutChange("promote", RolloutRecord.Status.PROMOTED, 1, 0, "clean", Map.of()),
        "server");
    assertThat(registry.activeRollout("roll")).isEmpty();
    assertThat(registry.latestRollout("roll").orElseThrow().status())
        .isEqualTo(RolloutRecord.Status.PROMOTED);
    assertThat(registry.version(ArtifactRef.of("roll", 2)).stage()).isEqualTo(Stage.PRODUCTION);
    assertThat(registry.version(ArtifactRef.of("roll", 1)).stage()).isEqualTo(Stage.ARCHIVED);
    List<ChangeLogEntry> log = registry.log("roll", 3);
    assertThat(log)
        .extracting(ChangeLogEntry::action)
        .containsExactly(Action.ROLLOUT, Action.ROLLOUT, Action.PROMOTE);
    assertThat(log.get(2).previousVersion()).isEqualTo(1);
    assertThat(log.get(1).details()).containsEntry("flip_rate", 0.01);
    assertThatThrownBy(
            () ->
                registry.recordRollout(
                    r.id(),
                    new RolloutChange("hold", RolloutRecord.Status.RUNNING, 1, 1, "x", Map.of()),
                    "server"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("is over");
    // A plain rollback afterwards goes back to the baseline the rollout displaced.
    assertThat(registry.rollback("roll", null, "undo", "alice").version()).isEqualTo(1);

    // A second rollout, rolled back: the candidate is archived, production is untouched.
    RolloutRecord r3 =
        registry.startRollout(
            ArtifactRef.of("roll", 3), "shadow", "{}", policy, "live.yaml", "shadow", "bob");
    registry.recordRollout(
        r3.id(),
        new RolloutChange("rollback", RolloutRecord.Status.ROLLED_BACK, 0, 2, "flips", Map.of()),
        "server");
    assertThat(registry.version(ArtifactRef.of("roll", 3)).stage()).isEqualTo(Stage.ARCHIVED);
    assertThat(registry.version(ArtifactRef.of("roll", 1)).stage()).isEqualTo(Stage.PRODUCTION);
    ChangeLogEntry last = registry.log("roll", 1).get(0);
    assertThat(last.action()).isEqualTo(Action.ROLLBACK);
    assertThat(last.reason()).isEqualTo("flips");
    assertThat(last.details()).containsEntry("production", "roll@1");
  }
}
