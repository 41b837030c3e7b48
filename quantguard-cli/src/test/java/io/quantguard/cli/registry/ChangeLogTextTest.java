package io.quantguard.cli.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.registry.Action;
import io.quantguard.registry.ChangeLogEntry;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChangeLogTextTest {
  @Test
  void aVariantSwitchReadsAsTrafficMovingBetweenVersions() {
    ChangeLogEntry e =
        new ChangeLogEntry(
            7,
            Instant.parse("2026-12-02T14:00:00Z"),
            "serve",
            Action.VARIANT,
            "cnn",
            2,
            null,
            1,
            "p95 80 ms breaks the objective p95 <= 50 ms",
            Map.of("direction", "faster"));
    assertThat(ChangeLogText.line(e))
        .contains("variant")
        .contains("traffic cnn@1 -> cnn@2 (faster variant)");
  }
}
