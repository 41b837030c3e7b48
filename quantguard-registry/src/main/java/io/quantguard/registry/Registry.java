package io.quantguard.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.ExternalData;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.report.Policy;
import io.quantguard.report.ReportReader;
import io.quantguard.report.Sha256;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model registry: versioned, content-addressed artifacts with their lineage, stages and an
 * append-only change log. Metadata lives in SQLite (a directory, the default) or PostgreSQL (a
 * {@code jdbc:postgresql:} URL, for teams), with the same schema; model files live in a {@link
 * BlobStore} addressed by SHA-256 and verified on every read.
 *
 * <p>Every change (register, promote, rollback, reproduce, audit, policy) is one database
 * transaction that first bumps the single {@code registry_state} row: that serializes concurrent
 * writers on both databases (so two promotions never lose one another) and numbers the change log
 * without gaps. Blobs are written before the transaction and become visible only through the row it
 * commits, so a process killed half-way leaves nothing that any reader sees.
 */
public final class Registry {
  private static final Logger LOG = LoggerFactory.getLogger(Registry.class);
  private static final ObjectMapper RECIPE_JSON = new ObjectMapper();

  private final Database db;
  private final BlobStore blobs;

  private Registry(Database db, BlobStore blobs) {
    this.db = db;
    this.blobs = blobs;
  }

  /**
   * Opens (creating or migrating as needed) the registry at {@code location} with its default blob
   * store (see {@link #defaultBlobs(String)}).
   *
   * @param location a directory (SQLite), {@code jdbc:sqlite:FILE} or {@code jdbc:postgresql://...}
   */
  public static Registry open(String location) {
    return open(location, new FileBlobStore(defaultBlobs(location)));
  }

  /** Opens the registry at {@code location} with the given blob store. */
  public static Registry open(String location, BlobStore blobs) {
    Database db = Database.parse(location);
    db.migrate();
    LOG.debug("registry {} ({}) open", db.describe(), db.vendor());
    return new Registry(db, blobs);
  }

  /** {@code $QUANTGUARD_REGISTRY}, else {@code ~/.quantguard}. */
  public static String defaultLocation() {
    String env = System.getenv("QUANTGUARD_REGISTRY");
    if (env != null && !env.isBlank()) {
      return env;
    }
    return Path.of(System.getProperty("user.home"), ".quantguard").toString();
  }

  /**
   * Where blobs go when no store is named: {@code blobs/} beside the SQLite file; for PostgreSQL
   * {@code $QUANTGUARD_BLOBS}, else {@code ~/.quantguard/blobs}.
   */
  public static Path defaultBlobs(String location) {
    if (Database.parse(location) instanceof Database.Sqlite s) {
      return s.file().resolveSibling("blobs");
    }
    String env = System.getenv("QUANTGUARD_BLOBS");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".quantguard", "blobs");
  }

  /** The database, for messages (no credentials). */
  public String location() {
    return db.describe();
  }

  // ---------------------------------------------------------------- register

  /**
   * Stores a model file as the next version of {@code registration.model()}, in stage {@code
   * candidate}. How it was made (recipe, calibration fingerprint, tool version, where it was
   * quantized) comes from the model's metadata ({@link QuantizationProvenance}), not from this
   * process; the parent must be registered already.
   */
  public ArtifactVersion register(Registration r) {
    String name = ArtifactRef.checkNameOf("registration.model", r.model());
    String actor = requireActor(r.actor());
    Path file = r.file();
    OnnxModel model = ModelIO.load(file);
    if (model.graph().initializers().values().stream().anyMatch(ExternalData::isExternal)) {
      throw new InvalidInputException(
          file.toString(),
          "keeps its weights in external data files, which the registry does not store yet",
          "save the model with its weights inline (models under 2 GiB)");
    }
    QuantizationProvenance provenance = provenance(file, model, r.recipe());
    ArtifactRef parent = r.parent() != null ? resolveParent(r.parent()) : null;
    Path reportFile = null;
    if (r.report() != null) {
      reportFile = Files.isDirectory(r.report()) ? r.report().resolve("report.json") : r.report();
      ReportReader.read(reportFile); // refuses anything that is not a report
    }

    // Blobs first, outside the transaction: a long write must not hold the write lock, and a blob
    // that no committed row names is invisible.
    Blob blob = blobs.put(file);
    String reportSha = reportFile != null ? blobs.put(reportFile).sha256() : null;
    ArtifactVersion stored =
        write(
            (c, seq) -> {
              Instant now = now();
              VersionTable.ensureModel(c, name, now, actor);
              Optional<Integer> same =
                  Sql.queryInt(
                      c,
                      "SELECT MIN(version) FROM artifact_version WHERE model = ? AND blob_sha256 = ?",
                      name,
                      blob.sha256());
              if (same.isPresent()) {
                throw new InvalidInputException(
                    file.toString(),
                    "is already registered as " + name + "@" + same.get() + " (same bytes)",
                    "use that version; a model file is stored once per model");
              }
              ArtifactVersion v =
                  new ArtifactVersion(
                      name,
                      VersionTable.nextVersion(c, name),
                      Stage.CANDIDATE,
                      blob.sha256(),
                      blob.sizeBytes(),
                      file.getFileName().toString(),
                      parent,
                      provenance,
                      reportSha,
                      now,
                      actor,
                      r.note());
              VersionTable.insert(c, v);
              Map<String, Object> details = new LinkedHashMap<>();
              details.put("sha256", blob.sha256());
              details.put("sizeBytes", blob.sizeBytes());
              details.put("file", file.toAbsolutePath().toString());
              putIfPresent(details, "parent", parent != null ? parent.toString() : null);
              putIfPresent(details, "recipeSha256", v.recipeSha256());
              putIfPresent(details, "calibrationFingerprint", v.calibrationFingerprint());
              putIfPresent(details, "reportSha256", reportSha);
              ChangeLog.append(
                  c,
                  new ChangeLogEntry(
                      seq,
                      now,
                      actor,
                      Action.REGISTER,
                      name,
                      v.version(),
                      Stage.CANDIDATE,
                      null,
                      r.note(),
                      details));
              return v;
            });
    LOG.debug("registered {} ({})", stored.ref(), blob.sha256());
    return stored;
  }

  /**
   * How the model was made: what its metadata records, or the recipe given with it (which must be
   * the one the metadata names, if it names one). A model quantized before the recipe's mode was
   * recorded gets it from its recipe.
   */
  private static @Nullable QuantizationProvenance provenance(
      Path file, OnnxModel model, Registration.@Nullable Recipe given) {
    QuantizationProvenance recorded = QuantizationProvenance.read(model).orElse(null);
    if (given != null
        && recorded != null
        && recorded.recipeSha256() != null
        && !recorded.recipeSha256().equals(given.sha256())) {
      throw InvalidInputException.forParameter(
          "registration.recipe",
          null,
          "is not the recipe "
              + file
              + " records (sha256 "
              + abbrev(given.sha256())
              + " vs "
              + abbrev(recorded.recipeSha256())
              + " in its metadata)",
          "leave the recipe out: the model's own record is used");
    }
    if (recorded == null) {
      return given == null
          ? null
          : new QuantizationProvenance(
              null, given.json(), given.sha256(), given.mode(), null, null, null, null, null, null);
    }
    if (recorded.mode() != null) {
      return recorded;
    }
    String mode = given != null ? given.mode() : modeOf(recorded.recipeJson());
    return new QuantizationProvenance(
        recorded.toolVersion(),
        recorded.recipeJson(),
        recorded.recipeSha256(),
        mode,
        recorded.calibrationFingerprint(),
        recorded.fingerprintScheme(),
        recorded.calibrationSamples(),
        recorded.session(),
        recorded.environment(),
        recorded.training());
  }

  /** The {@code mode} of a recipe's canonical JSON, or null. */
  private static @Nullable String modeOf(String recipeJson) {
    try {
      return RECIPE_JSON.readTree(recipeJson).path("mode").asText(null);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private ArtifactRef resolveParent(String parent) {
    Path asFile = null;
    try {
      asFile = Path.of(parent);
    } catch (InvalidPathException e) {
      // not a path
    }
    if (asFile != null && Files.isRegularFile(asFile)) {
      String sha = Sha256.of(asFile);
      Optional<ArtifactRef> found =
          read(
              c ->
                  Sql.queryRow(
                      c,
                      "SELECT model, version FROM artifact_version WHERE blob_sha256 = ?"
                          + " ORDER BY registered_at, model, version",
                      rs -> ArtifactRef.of(rs.getString(1), rs.getInt(2)),
                      sha));
      return found.orElseThrow(
          () ->
              InvalidInputException.forParameter(
                  "registration.parent",
                  parent,
                  "is not registered (no version has its sha256 " + abbrev(sha) + ")",
                  "register it first under a model name of its own, then name it as"
                      + " NAME@VERSION"));
    }
    ArtifactRef ref = ArtifactRef.parse(parent);
    if (!ref.pinned()) {
      throw InvalidInputException.forParameter(
          "registration.parent",
          parent,
          "names a model, not a version (and is no file)",
          "use MODEL@VERSION, MODEL@production, or the path of a registered file");
    }
    return version(ref).ref();
  }

  // ---------------------------------------------------------------- stages

  /**
   * Moves a version to a stage. Promoting to production archives the version that held it;
   * promoting to canary sends the previous canary back to candidate. Requires a reason.
   */
  public ChangeLogEntry promote(ArtifactRef ref, Stage to, String reason, String actor) {
    String why = requireReason(reason);
    String who = requireActor(actor);
    return write(
        (c, seq) -> {
          ArtifactVersion v = resolve(c, ref);
          if (v.stage() == to) {
            throw new InvalidInputException(
                ref.toString(), "is already " + to.id(), "nothing to do");
          }
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("from", v.stage().id());
          Integer displaced = null;
          if (to.exclusive()) {
            Optional<Integer> holder = VersionTable.holder(c, v.model(), to);
            if (holder.isPresent()) {
              displaced = holder.get();
              Stage next = to == Stage.PRODUCTION ? Stage.ARCHIVED : Stage.CANDIDATE;
              VersionTable.setStage(c, v.model(), displaced, next);
              details.put("displaced", v.model() + "@" + displaced);
              details.put("displacedTo", next.id());
            }
          }
          VersionTable.setStage(c, v.model(), v.version(), to);
          return ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq,
                  now(),
                  who,
                  Action.PROMOTE,
                  v.model(),
                  v.version(),
                  to,
                  displaced,
                  why,
                  details));
        });
  }

  /**
   * Puts an earlier version back into production at once: {@code to}, or by default the version
   * that was in production before the current one. The version rolled back from is archived;
   * rolling back again (without {@code to}) undoes the rollback. Requires a reason.
   */
  public ChangeLogEntry rollback(String model, Integer to, String reason, String actor) {
    String why = requireReason(reason);
    String who = requireActor(actor);
    ArtifactRef.checkName(model, model);
    return write(
        (c, seq) -> {
          requireModel(c, model);
          int current =
              VersionTable.holder(c, model, Stage.PRODUCTION)
                  .orElseThrow(
                      () ->
                          new InvalidInputException(
                              model,
                              "has no version in production to roll back",
                              "promote a version of " + model + " to production first"));
          int target =
              to != null
                  ? to
                  : ChangeLog.productionBefore(c, model, current)
                      .orElseThrow(
                          () ->
                              new InvalidInputException(
                                  model,
                                  "had no production version before "
                                      + model
                                      + "@"
                                      + current
                                      + ", so there is none to go back to",
                                  "name the version to roll back to"));
          if (target == current) {
            throw InvalidInputException.forParameter(
                "rollback.to",
                target,
                model + "@" + target + " is already in production",
                "name another version");
          }
          ArtifactVersion t = resolve(c, ArtifactRef.of(model, target));
          VersionTable.setStage(c, model, current, Stage.ARCHIVED);
          VersionTable.setStage(c, model, target, Stage.PRODUCTION);
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("from", model + "@" + current);
          details.put("fromStage", Stage.ARCHIVED.id());
          details.put("targetWas", t.stage().id());
          details.put("default", to == null);
          return ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq,
                  now(),
                  who,
                  Action.ROLLBACK,
                  model,
                  target,
                  Stage.PRODUCTION,
                  current,
                  why,
                  details));
        });
  }

  // ---------------------------------------------------------------- policies

  /**
   * Sets the policy {@code model} is audited against, for one stage or (null) for every stage that
   * has none of its own. The text is validated first (a malformed policy is refused and nothing is
   * stored), kept under its SHA-256, and the change is recorded with the old and new hash and the
   * reason. Setting the text already in force is a no-op: nothing is recorded ({@link
   * PolicyChange#changed()} is false).
   *
   * @param text the policy's YAML, as read from its file
   * @param source where it came from (a file path): named in errors, and the policy's name when its
   *     text has no {@code name:}
   */
  public PolicyChange setPolicy(
      String model,
      @Nullable Stage stage,
      String text,
      @Nullable String source,
      String reason,
      String actor) {
    String why = requireReason(reason);
    String who = requireActor(actor);
    ArtifactRef.checkName(model, model);
    String src = source != null ? source : model + " policy";
    Policy parsed = Policy.parse(text, src); // refused before anything is written
    String sha = ModelPolicy.sha256(text);
    try {
      return write(
          (c, seq) -> {
            requireModel(c, model);
            Optional<ModelPolicy> current = PolicyTable.get(c, model, stage);
            if (current.isPresent() && current.get().sha256().equals(sha)) {
              throw new Unchanged(current.get()); // rolls back: no entry, no gap in the numbers
            }
            String previous = current.map(ModelPolicy::sha256).orElse(null);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("sha256", sha);
            details.put("previousSha256", previous);
            details.put("name", parsed.name());
            putIfPresent(details, "source", source);
            details.put("rules", parsed.rules().size());
            ChangeLogEntry e =
                ChangeLog.append(
                    c,
                    new ChangeLogEntry(
                        seq, now(), who, Action.POLICY, model, null, stage, null, why, details));
            PolicyTable.storeText(c, sha, text);
            PolicyTable.put(c, model, stage, sha, parsed.name(), source, seq);
            return new PolicyChange(
                new ModelPolicy(
                    model, stage, parsed.name(), sha, text, source, seq, e.at(), who, why),
                previous,
                e);
          });
    } catch (Unchanged u) {
      return new PolicyChange(u.current, u.current.sha256(), null);
    }
  }

  /** Thrown inside a policy write to roll it back when the text is the one in force already. */
  private static final class Unchanged extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ModelPolicy current;

    Unchanged(ModelPolicy current) {
      super(null, null, false, false);
      this.current = current;
    }
  }

  /** A model's policies: the one for every stage first, then those for one stage. */
  public List<ModelPolicy> policies(String model) {
    return read(
        c -> {
          requireModel(c, model);
          return PolicyTable.all(c, model);
        });
  }

  /** The policy set for exactly {@code stage} (null: the one for every stage). */
  public Optional<ModelPolicy> policy(String model, @Nullable Stage stage) {
    return read(
        c -> {
          requireModel(c, model);
          return PolicyTable.get(c, model, stage);
        });
  }

  /**
   * The policy a version in {@code stage} is judged by: the stage's own, else the model's policy
   * for every stage; empty when neither is set.
   */
  public Optional<ModelPolicy> policyFor(String model, @Nullable Stage stage) {
    return read(c -> policyFor(c, model, stage));
  }

  private Optional<ModelPolicy> policyFor(Connection c, String model, @Nullable Stage stage)
      throws SQLException {
    requireModel(c, model);
    Optional<ModelPolicy> own = stage != null ? PolicyTable.get(c, model, stage) : Optional.empty();
    return own.isPresent() ? own : PolicyTable.get(c, model, null);
  }

  /**
   * A policy text the registry keeps, by its SHA-256 or a unique prefix of at least 8 hex digits
   * (as the change log shows them): every text ever set stays readable.
   *
   * @return the full hash and the text
   */
  public Map.Entry<String, String> policyText(String sha256) {
    String prefix = sha256 == null ? "" : sha256.strip().toLowerCase(java.util.Locale.ROOT);
    if (!prefix.matches("[0-9a-f]{8,64}")) {
      throw InvalidInputException.forParameter(
          "policy.sha256",
          sha256,
          "is not a SHA-256 or a prefix of one (8 to 64 hex digits)",
          "copy the hash from the model's change log");
    }
    List<String[]> found = read(c -> PolicyTable.textsByPrefix(c, prefix));
    if (found.isEmpty()) {
      throw InvalidInputException.forParameter(
          "policy.sha256",
          sha256,
          "names no policy text in the registry " + db.describe(),
          "copy the hash from the model's change log");
    }
    if (found.size() > 1) {
      throw InvalidInputException.forParameter(
          "policy.sha256",
          sha256,
          "is the prefix of more than one policy's hash",
          "give more digits");
    }
    return Map.entry(found.get(0)[0], found.get(0)[1]);
  }

  // ---------------------------------------------------------------- drift profiles

  /** The schema prefix every drift profile carries ({@code quantguard.drift-profile/N}). */
  public static final String PROFILE_SCHEMA_PREFIX = "quantguard.drift-profile/";

  /**
   * Stores {@code profile} (a drift reference profile's JSON, as {@code ReferenceProfile.write}
   * makes it) with version {@code ref}, replacing the one it had, and records the change with the
   * old and new hash. The registry keeps the document, it does not read it: only its {@code schema}
   * is checked. Storing the profile already stored is a no-op.
   *
   * @return the profile's SHA-256
   */
  public String setProfile(ArtifactRef ref, Path profile, String reason, String actor) {
    String why = requireReason(reason);
    String who = requireActor(actor);
    checkProfile(profile);
    Blob blob = blobs.put(profile);
    try {
      return write(
          (c, seq) -> {
            ArtifactVersion v = resolve(c, ref);
            Optional<String> previous = profileSha(c, v.model(), v.version());
            if (previous.isPresent() && previous.get().equals(blob.sha256())) {
              throw new UnchangedProfile(blob.sha256());
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("profileSha256", blob.sha256());
            details.put("previousSha256", previous.orElse(null));
            details.put("sizeBytes", blob.sizeBytes());
            ChangeLog.append(
                c,
                new ChangeLogEntry(
                    seq,
                    now(),
                    who,
                    Action.PROFILE,
                    v.model(),
                    v.version(),
                    null,
                    null,
                    why,
                    details));
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM drift_profile WHERE model = ? AND version = ?")) {
              Sql.bind(ps, v.model(), v.version());
              ps.executeUpdate();
            }
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO drift_profile (model, version, profile_sha256, change_seq)"
                        + " VALUES (?, ?, ?, ?)")) {
              Sql.bind(ps, v.model(), v.version(), blob.sha256(), seq);
              ps.executeUpdate();
            }
            return blob.sha256();
          });
    } catch (UnchangedProfile u) {
      return u.sha256;
    }
  }

  /** Thrown inside a profile write to roll it back when the profile is stored already. */
  private static final class UnchangedProfile extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String sha256;

    UnchangedProfile(String sha256) {
      super(null, null, false, false);
      this.sha256 = sha256;
    }
  }

  private static void checkProfile(Path profile) {
    String schema;
    try {
      schema = RECIPE_JSON.readTree(profile.toFile()).path("schema").asText("");
    } catch (java.io.IOException e) {
      throw new InvalidInputException(
          profile.toString(),
          "is not a readable drift profile: " + e.getMessage(),
          "give a profile written by ReferenceProfile.write");
    }
    if (!schema.startsWith(PROFILE_SCHEMA_PREFIX)) {
      throw new InvalidInputException(
          profile.toString(),
          schema.isEmpty() ? "is not a drift profile (no schema)" : "has schema " + schema,
          "give a profile written by ReferenceProfile.write (schema "
              + PROFILE_SCHEMA_PREFIX
              + "N)");
    }
  }

  private static Optional<String> profileSha(Connection c, String model, int version)
      throws SQLException {
    return Sql.queryRow(
        c,
        "SELECT profile_sha256 FROM drift_profile WHERE model = ? AND version = ?",
        rs -> rs.getString(1),
        model,
        version);
  }

  /** The drift profile stored with the version {@code ref} names (its JSON), verified. */
  public Optional<String> profile(ArtifactRef ref) {
    ArtifactVersion v = version(ref);
    Optional<String> sha = read(c -> profileSha(c, v.model(), v.version()));
    return sha.map(s -> new String(readBlob(v, s, "drift profile"), StandardCharsets.UTF_8));
  }

  /**
   * Keeps a closed drift window of {@code model} (its JSON, as the serving process wrote it) and
   * deletes all but the newest {@code keep}. Not a change: no change-log entry, no change number.
   */
  public void keepDriftWindow(String model, String json, int keep) {
    if (keep < 1) {
      throw new IllegalArgumentException("keep at least one drift window");
    }
    update(
        c -> {
          requireModel(c, model);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO drift_window (model, seq, body) SELECT ?, COALESCE(MAX(seq), 0) + 1,"
                      + " ? FROM drift_window WHERE model = ?")) {
            Sql.bind(ps, model, json, model);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM drift_window WHERE model = ? AND seq <= (SELECT MAX(seq) FROM"
                      + " drift_window WHERE model = ?) - ?")) {
            Sql.bind(ps, model, model, keep);
            return ps.executeUpdate();
          }
        });
  }

  /** The newest {@code limit} drift windows kept for {@code model}, oldest first. */
  public List<String> driftWindows(String model, int limit) {
    return read(
        c -> {
          List<String> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT body FROM drift_window WHERE model = ? ORDER BY seq DESC LIMIT ?")) {
            Sql.bind(ps, model, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(0, rs.getString(1));
              }
            }
          }
          return out;
        });
  }

  // ---------------------------------------------------------------- reading

  /** Every model, by name. */
  public List<ModelOverview> models() {
    return read(
        c -> {
          List<ModelOverview> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT m.name, m.created_at, COUNT(v.version), MAX(v.version),"
                          + " MAX(CASE WHEN v.stage = 'production' THEN v.version END),"
                          + " MAX(CASE WHEN v.stage = 'canary' THEN v.version END),"
                          + " (SELECT MAX(l.at) FROM change_log l WHERE l.model = m.name)"
                          + " FROM model m LEFT JOIN artifact_version v ON v.model = m.name"
                          + " GROUP BY m.name, m.created_at ORDER BY m.name");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String last = rs.getString(7);
              out.add(
                  new ModelOverview(
                      rs.getString(1),
                      rs.getInt(3),
                      rs.getInt(4),
                      Sql.intOrNull(rs, 5),
                      Sql.intOrNull(rs, 6),
                      Instant.parse(rs.getString(2)),
                      last != null ? Instant.parse(last) : null));
            }
          }
          return out;
        });
  }

  /** A model's versions, oldest first. */
  public List<ArtifactVersion> versions(String model) {
    return read(
        c -> {
          requireModel(c, model);
          return VersionTable.select(c, "model = ? ORDER BY version", model);
        });
  }

  /**
   * The version a reference names; a bare model name means its latest version.
   *
   * @throws InvalidInputException for an unknown model or version, or an alias no version holds
   */
  public ArtifactVersion version(ArtifactRef ref) {
    return read(c -> resolve(c, ref));
  }

  /** The evaluation report registered with a version, verified against its hash. */
  public Optional<String> report(ArtifactVersion v) {
    if (v.reportSha256() == null) {
      return Optional.empty();
    }
    return Optional.of(new String(readBlob(v, v.reportSha256(), "report"), StandardCharsets.UTF_8));
  }

  /** The model file's bytes, verified against the registered SHA-256. */
  public byte[] modelBytes(ArtifactRef ref) {
    ArtifactVersion v = version(ref);
    return readBlob(v, v.sha256(), "model");
  }

  /** Writes a version's model file to {@code target} (atomically), verified first. */
  public ArtifactVersion export(ArtifactRef ref, Path target) {
    ArtifactVersion v = version(ref);
    try {
      blobs.copyTo(v.sha256(), target);
    } catch (CorruptBlobException e) {
      throw corrupt(v, "model", e);
    }
    return v;
  }

  /**
   * The lineage around a model (all its versions, their ancestors and descendants) or around one
   * version (its ancestors and descendants).
   */
  public Lineage lineage(ArtifactRef ref) {
    return read(
        c -> {
          requireModel(c, ref.model());
          List<ArtifactVersion> all = VersionTable.select(c, "1 = 1 ORDER BY model, version");
          Map<String, ArtifactVersion> byRef = new LinkedHashMap<>();
          Map<String, List<ArtifactVersion>> children = new LinkedHashMap<>();
          for (ArtifactVersion v : all) {
            byRef.put(v.ref().toString(), v);
            if (v.parent() != null) {
              children.computeIfAbsent(v.parent().toString(), k -> new ArrayList<>()).add(v);
            }
          }
          List<ArtifactVersion> seeds =
              ref.pinned()
                  ? List.of(resolve(c, ref))
                  : all.stream().filter(v -> v.model().equals(ref.model())).toList();
          Set<String> keep = new LinkedHashSet<>();
          for (ArtifactVersion s : seeds) {
            ArtifactVersion a = s;
            while (a != null && keep.add(a.ref().toString())) {
              a = a.parent() != null ? byRef.get(a.parent().toString()) : null;
            }
            Deque<ArtifactVersion> todo = new ArrayDeque<>(List.of(s));
            while (!todo.isEmpty()) {
              for (ArtifactVersion k :
                  children.getOrDefault(todo.pop().ref().toString(), List.of())) {
                if (keep.add(k.ref().toString())) {
                  todo.push(k);
                }
              }
            }
          }
          List<ArtifactVersion> nodes =
              all.stream().filter(v -> keep.contains(v.ref().toString())).toList();
          List<Lineage.Edge> edges =
              nodes.stream()
                  .filter(v -> v.parent() != null && keep.contains(v.parent().toString()))
                  .map(v -> new Lineage.Edge(v.parent(), v.ref()))
                  .toList();
          return new Lineage(ref, nodes, edges);
        });
  }

  /**
   * The change log, oldest first: the last {@code limit} entries, of one model or (null) of all.
   */
  public List<ChangeLogEntry> log(String model, int limit) {
    return read(
        c -> {
          if (model != null) {
            requireModel(c, model);
          }
          return ChangeLog.last(c, model, limit);
        });
  }

  /** The last {@code limit} entries of one action (e.g. the policy changes), oldest first. */
  public List<ChangeLogEntry> log(String model, Action action, int limit) {
    return read(
        c -> {
          if (model != null) {
            requireModel(c, model);
          }
          return ChangeLog.last(c, model, action, limit);
        });
  }

  // ---------------------------------------------------------------- rollouts

  /**
   * Starts a rollout of {@code candidate} against the version in production: the candidate moves to
   * {@code canary} (a previous canary goes back to candidate), the policy text is kept under its
   * SHA-256, and the start is a {@link Action#ROLLOUT} entry. One rollout per model at a time.
   *
   * @param mode {@code canary} or {@code shadow}
   * @param settings the server's rollout settings (JSON), kept as they are
   * @param policyText the policy's YAML; it is validated first and nothing is stored if it is bad
   */
  public RolloutRecord startRollout(
      ArtifactRef candidate,
      String mode,
      String settings,
      String policyText,
      String policySource,
      String reason,
      String actor) {
    String why = requireReason(reason);
    String who = requireActor(actor);
    Policy parsed = Policy.parse(policyText, policySource);
    String sha = ModelPolicy.sha256(policyText);
    if (!mode.equals("canary") && !mode.equals("shadow")) {
      throw InvalidInputException.forParameter(
          "rollout.mode", mode, "is not canary or shadow", "pick canary or shadow");
    }
    return write(
        (c, seq) -> {
          ArtifactVersion v = resolve(c, candidate);
          Optional<RolloutRecord> running = RolloutTable.active(c, v.model());
          if (running.isPresent()) {
            RolloutRecord r = running.get();
            throw new InvalidInputException(
                v.ref().toString(),
                "cannot start a rollout: "
                    + r.candidateRef()
                    + " is already being rolled out ("
                    + r.status().id()
                    + ")",
                "finish that one first: promote it or roll it back");
          }
          int baseline =
              VersionTable.holder(c, v.model(), Stage.PRODUCTION)
                  .orElseThrow(
                      () ->
                          new InvalidInputException(
                              v.model(),
                              "has no version in production to roll a candidate out against",
                              "promote a version of " + v.model() + " to production first"));
          if (baseline == v.version()) {
            throw new InvalidInputException(
                v.ref().toString(),
                "is the production version already",
                "roll out another version");
          }
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("decision", "start");
          details.put("mode", mode);
          details.put("baseline", v.model() + "@" + baseline);
          details.put("from", v.stage().id());
          details.put("policy", parsed.name());
          details.put("policySha256", sha);
          details.put("settings", settings);
          if (v.stage() != Stage.CANARY) {
            Optional<Integer> holder = VersionTable.holder(c, v.model(), Stage.CANARY);
            if (holder.isPresent()) {
              VersionTable.setStage(c, v.model(), holder.get(), Stage.CANDIDATE);
              details.put("displaced", v.model() + "@" + holder.get());
            }
            VersionTable.setStage(c, v.model(), v.version(), Stage.CANARY);
          }
          ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq,
                  now(),
                  who,
                  Action.ROLLOUT,
                  v.model(),
                  v.version(),
                  Stage.CANARY,
                  null,
                  why,
                  details));
          PolicyTable.storeText(c, sha, policyText);
          RolloutRecord r =
              new RolloutRecord(
                  seq,
                  v.model(),
                  v.version(),
                  baseline,
                  mode,
                  RolloutRecord.Status.RUNNING,
                  0,
                  0,
                  settings,
                  sha,
                  policyText,
                  seq);
          RolloutTable.insert(c, r);
          return r;
        });
  }

  /** The rollout of {@code model} under way (running or paused), if any. */
  public Optional<RolloutRecord> activeRollout(String model) {
    return read(c -> RolloutTable.active(c, model));
  }

  /** The latest rollout of {@code model}, under way or over, if any. */
  public Optional<RolloutRecord> latestRollout(String model) {
    return read(c -> RolloutTable.latest(c, model));
  }

  /**
   * Records a decision about rollout {@code id} and applies it, in one transaction: the row moves
   * to the change's status, step and failure count, and the change log gets a {@link
   * Action#ROLLOUT} entry, or for the end a {@link Action#PROMOTE} (candidate to production,
   * baseline archived) or {@link Action#ROLLBACK} (candidate archived; production unchanged) entry.
   *
   * @throws InvalidInputException when the rollout is over already
   */
  public RolloutRecord recordRollout(long id, RolloutChange change, String actor) {
    String why = requireReason(change.reason());
    String who = requireActor(actor);
    return write(
        (c, seq) -> {
          RolloutRecord r =
              RolloutTable.byId(c, id)
                  .orElseThrow(
                      () ->
                          new InvalidInputException(
                              "rollout " + id, "does not exist", "start a rollout first"));
          if (!r.status().active()) {
            throw new InvalidInputException(
                "the rollout of " + r.candidateRef(),
                "is over (" + r.status().id() + ")",
                "start a new rollout to change it");
          }
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("decision", change.decision());
          details.put("rollout", r.id());
          details.put("mode", r.mode());
          details.put("step", change.step());
          details.put("failedIntervals", change.failedIntervals());
          details.putAll(change.details());
          Action action = Action.ROLLOUT;
          Stage stage = Stage.CANARY;
          Integer previous = null;
          switch (change.status()) {
            case PROMOTED -> {
              action = Action.PROMOTE;
              stage = Stage.PRODUCTION;
              Optional<Integer> holder = VersionTable.holder(c, r.model(), Stage.PRODUCTION);
              if (holder.isPresent() && holder.get() != r.candidate()) {
                previous = holder.get();
                VersionTable.setStage(c, r.model(), previous, Stage.ARCHIVED);
                details.put("displaced", r.model() + "@" + previous);
                details.put("displacedTo", Stage.ARCHIVED.id());
              }
              VersionTable.setStage(c, r.model(), r.candidate(), Stage.PRODUCTION);
            }
            case ROLLED_BACK -> {
              action = Action.ROLLBACK;
              stage = Stage.ARCHIVED;
              VersionTable.setStage(c, r.model(), r.candidate(), Stage.ARCHIVED);
              VersionTable.holder(c, r.model(), Stage.PRODUCTION)
                  .ifPresent(p -> details.put("production", r.model() + "@" + p));
            }
            default -> {}
          }
          ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq,
                  now(),
                  who,
                  action,
                  r.model(),
                  r.candidate(),
                  stage,
                  previous,
                  why,
                  details));
          RolloutRecord next =
              new RolloutRecord(
                  r.id(),
                  r.model(),
                  r.candidate(),
                  r.baseline(),
                  r.mode(),
                  change.status(),
                  change.step(),
                  change.failedIntervals(),
                  r.settings(),
                  r.policySha256(),
                  r.policyText(),
                  seq);
          RolloutTable.update(c, next);
          return next;
        });
  }

  // ---------------------------------------------------------------- reproduce, audit

  /**
   * Records the outcome of rebuilding {@code ref} from its recorded parent and recipe (done outside
   * the registry, which does not quantize) in the change log: whether the bytes were identical, the
   * rebuilt hash, the calibration data used and each difference from what was recorded.
   *
   * @param calibration the calibration data's name (its spec), or null when none was used
   */
  public ChangeLogEntry recordReproduction(
      ArtifactRef ref, Reproduction outcome, @Nullable String calibration, String actor) {
    String who = requireActor(actor);
    return write(
        (c, seq) -> {
          ArtifactVersion v = resolve(c, ref);
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("identical", outcome.identical());
          details.put("reproducedSha256", outcome.reproducedSha256());
          putIfPresent(details, "calibration", calibration);
          for (Reproduction.Difference d : outcome.differences()) {
            details.put(d.what(), Map.of("recorded", d.recorded(), "now", d.now()));
          }
          return ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq,
                  now(),
                  who,
                  Action.REPRODUCE,
                  v.model(),
                  v.version(),
                  null,
                  null,
                  null,
                  details));
        });
  }

  /**
   * Records that a serving process moved the traffic of {@code to}'s model from version {@code
   * from} to {@code to} to keep a latency objective ({@link Action#VARIANT}); serving decides, the
   * registry keeps the trail beside promotions and rollouts.
   *
   * @param details what was measured (the latency quantile, the objective, the variants' probe)
   */
  public ChangeLogEntry recordVariantSwitch(
      ArtifactRef to, int from, String reason, Map<String, Object> details, String actor) {
    String who = requireActor(actor);
    return write(
        (c, seq) -> {
          ArtifactVersion v = resolve(c, to);
          return ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq,
                  now(),
                  who,
                  Action.VARIANT,
                  v.model(),
                  v.version(),
                  null,
                  from,
                  reason,
                  details));
        });
  }

  /**
   * Records the outcome of an audit of {@code ref} (a re-evaluation on current data, judged against
   * a policy) in the change log, with the judged policy's SHA-256 and, when the model has a
   * registered policy for the version's stage (or every stage), that one's hash as it stood when
   * the outcome was recorded.
   *
   * @param policySha256 SHA-256 of the judged policy's text ({@link ModelPolicy#sha256(String)})
   * @param reason why the audit ran (a schedule, an alarm)
   * @param details what was judged and how it came out (policy, data, failed rules)
   */
  public ChangeLogEntry recordAudit(
      ArtifactRef ref,
      boolean passed,
      String policySha256,
      String reason,
      Map<String, Object> details,
      String actor) {
    String who = requireActor(actor);
    return write(
        (c, seq) -> {
          ArtifactVersion v = resolve(c, ref);
          Optional<ModelPolicy> registered = policyFor(c, v.model(), v.stage());
          Map<String, Object> d = new LinkedHashMap<>();
          d.put("passed", passed);
          d.put("stage", v.stage().id());
          d.put("policySha256", policySha256);
          registered.ifPresent(
              p -> {
                d.put("registeredPolicySha256", p.sha256());
                d.put("registeredPolicyFor", p.scope());
              });
          d.putAll(details);
          return ChangeLog.append(
              c,
              new ChangeLogEntry(
                  seq, now(), who, Action.AUDIT, v.model(), v.version(), null, null, reason, d));
        });
  }

  // ---------------------------------------------------------------- plumbing

  private byte[] readBlob(ArtifactVersion v, String sha, String what) {
    try {
      return blobs.read(sha);
    } catch (CorruptBlobException e) {
      throw corrupt(v, what, e);
    }
  }

  /** The store's error, naming the version whose blob it is. */
  private static CorruptBlobException corrupt(
      ArtifactVersion v, String what, CorruptBlobException e) {
    return new CorruptBlobException(
        v.ref() + "'s " + what + " (" + e.input() + ")", e.problem(), e.fix());
  }

  @FunctionalInterface
  private interface Read<T> {
    T run(Connection c) throws SQLException;
  }

  @FunctionalInterface
  private interface Write<T> {
    T run(Connection c, long seq) throws SQLException;
  }

  private <T> T read(Read<T> work) {
    try (Connection c = db.connect()) {
      return work.run(c);
    } catch (SQLException e) {
      throw new IllegalStateException("registry " + db.describe() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code work} in one transaction that first takes the registry's write lock (the {@code
   * registry_state} row) and with it the next change-log number.
   */
  private <T> T write(Write<T> work) {
    return update(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE registry_state SET change_seq = change_seq + 1 WHERE id = 1")) {
            if (ps.executeUpdate() != 1) {
              throw new IllegalStateException("registry_state has no row; the schema is damaged");
            }
          }
          long seq =
              Sql.queryRow(
                      c, "SELECT change_seq FROM registry_state WHERE id = 1", rs -> rs.getLong(1))
                  .orElseThrow();
          return work.run(c, seq);
        });
  }

  /**
   * Runs {@code work} in one transaction, rolled back when it throws; on its own for work that is
   * not a change (no change-log number), and under {@link #write} for changes.
   */
  private <T> T update(Read<T> work) {
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("registry " + db.describe() + ": " + e.getMessage(), e);
    }
  }

  private ArtifactVersion resolve(Connection c, ArtifactRef ref) throws SQLException {
    requireModel(c, ref.model());
    List<ArtifactVersion> found =
        ref.version() != null
            ? VersionTable.select(c, "model = ? AND version = ?", ref.model(), ref.version())
            : ref.alias() != null
                ? VersionTable.select(c, "model = ? AND stage = ?", ref.model(), ref.alias().id())
                : VersionTable.select(c, "model = ? ORDER BY version DESC LIMIT 1", ref.model());
    if (!found.isEmpty()) {
      return found.get(0);
    }
    if (ref.alias() != null) {
      throw new InvalidInputException(
          ref.toString(),
          "no version of " + ref.model() + " is in " + ref.alias().id(),
          "promote a version of " + ref.model() + " to " + ref.alias().id() + " first");
    }
    int latest = VersionTable.nextVersion(c, ref.model()) - 1;
    throw new InvalidInputException(
        ref.toString(),
        latest == 0
            ? ref.model() + " has no versions"
            : "there is no version " + ref.version() + " (versions 1 to " + latest + ")",
        "name one of its versions");
  }

  private void requireModel(Connection c, String model) throws SQLException {
    if (!VersionTable.modelExists(c, model)) {
      throw new InvalidInputException(
          model,
          "is not a model in the registry " + db.describe(),
          "check the name against the registry's models, or register a first version of it");
    }
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private static void putIfPresent(Map<String, Object> m, String key, @Nullable Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  private static String requireReason(String reason) {
    if (reason == null || reason.isBlank()) {
      throw InvalidInputException.forParameter(
          "change.reason",
          null,
          "is required: promotions, rollbacks and policy changes are recorded with their why",
          "say why, e.g. \"passes release.yaml; canary clean for 24 h\"");
    }
    return reason.strip();
  }

  private static String requireActor(String actor) {
    if (actor == null || actor.isBlank()) {
      throw InvalidInputException.forParameter(
          "change.actor", null, "is empty: every change records who made it", "name who makes it");
    }
    return actor.strip();
  }

  private static String abbrev(String sha) {
    return sha == null ? "(none)" : sha.substring(0, Math.min(16, sha.length()));
  }
}
