package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.runtime.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The scheduled (open-loop) load against a server that stalls once for {@value #STALL_MS} ms: it
 * keeps its rate, and the requests that the stall held up count their wait from when they were
 * meant to leave, so the tail shows the stall as users would feel it; a closed loop at the same
 * time sends nothing while it waits and hides it (coordinated omission).
 */
class LoadGeneratorTest {
  private static final int STALL_MS = 300;

  @Test
  void aScheduledLoadKeepsItsRateAndCountsTheWaitOfRequestsHeldUpByAStall() throws Exception {
    ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    AtomicInteger seen = new AtomicInteger();
    Thread t = new Thread(() -> serve(server, seen), "stalling-server");
    t.setDaemon(true);
    t.start();
    try {
      URI uri = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/infer");
      List<LoadGenerator.Call> calls =
          List.of(
              new LoadGenerator.Call(
                  RequestBody.binary(null, Map.of("x", Tensor.ofFloats(new float[] {1}, 1)), true),
                  200));
      LoadGenerator.Result open =
          LoadGenerator.run(
              LoadGenerator.Plan.atRate(uri, calls, 1, Duration.ZERO, Duration.ofSeconds(2), 200));
      // 400 requests on schedule; the stall holds up the next ~60 (15 %), waiting 300 ms down to 0
      assertThat(open.unexpected()).isZero();
      assertThat(open.throughput()).isBetween(170.0, 210.0);
      assertThat(open.latency().p99Ms()).isGreaterThan(200);
      assertThat(open.latency().p95Ms()).isGreaterThan(50);

      seen.set(0);
      LoadGenerator.Result closed =
          LoadGenerator.run(
              new LoadGenerator.Plan(uri, calls, 1, Duration.ZERO, Duration.ofSeconds(2)));
      assertThat(closed.requests()).isGreaterThan(open.requests());
      assertThat(closed.latency().p95Ms()).isLessThan(20);
    } finally {
      server.close();
    }
  }

  /** Answers every request on each connection in turn, and stalls before the 50th answer. */
  private static void serve(ServerSocket server, AtomicInteger seen) {
    byte[] ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".getBytes(StandardCharsets.UTF_8);
    while (!server.isClosed()) {
      try (Socket s = server.accept()) {
        s.setTcpNoDelay(true);
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        for (int length = head(in); length >= 0; length = head(in)) {
          in.readNBytes(length);
          if (seen.incrementAndGet() == 50) {
            Thread.sleep(STALL_MS);
          }
          out.write(ok);
          out.flush();
        }
      } catch (IOException e) {
        // the server socket closed at the end of the test, or the client went away
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Reads a request head and returns its Content-Length, or -1 at the end of the connection. */
  private static int head(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int length = 0;
    boolean any = false;
    for (int c = in.read(); c >= 0; c = in.read()) {
      any = true;
      if (c != '\n') {
        line.append((char) c);
        continue;
      }
      String l = line.toString().strip();
      line.setLength(0);
      if (l.isEmpty()) {
        return length;
      }
      if (l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(l.substring(15).strip());
      }
    }
    return any ? length : -1;
  }

  @Test
  void aRateIsPositiveAndFiniteAndHasNoPause() {
    URI uri = URI.create("http://127.0.0.1:1/infer");
    List<LoadGenerator.Call> calls =
        List.of(
            new LoadGenerator.Call(
                RequestBody.binary(null, Map.of("x", Tensor.ofFloats(new float[] {1}, 1)), true),
                200));
    assertThatThrownBy(
            () -> LoadGenerator.Plan.atRate(uri, calls, 1, Duration.ZERO, Duration.ofSeconds(1), 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                new LoadGenerator.Plan(
                    uri, calls, 1, Duration.ZERO, Duration.ofSeconds(1), Duration.ofMillis(1), 100))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
