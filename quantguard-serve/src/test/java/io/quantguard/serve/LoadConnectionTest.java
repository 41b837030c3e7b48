package io.quantguard.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The load generator's HTTP/1.1 connection against a scripted server: answers by length, chunked
 * and with {@code Connection: close} (the next request opens a new connection), and the request it
 * writes.
 */
class LoadConnectionTest {
  private static final String[] ANSWERS = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n2;x=1\r\n!!\r\n0\r\n\r\n",
    "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
  };

  @Test
  void readsLengthChunkedAndCloseAnswersAndReconnects() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      List<String> heads = new ArrayList<>();
      CompletableFuture<Integer> accepted =
          CompletableFuture.supplyAsync(() -> serve(server, heads));
      URI uri = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v2/models/m/infer?x=1");
      byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
      try (LoadConnection c = new LoadConnection(uri, 10_000)) {
        byte[] head = c.head(Map.of("Content-Type", "application/json"), body.length);
        List<String> got = new ArrayList<>();
        for (int i = 0; i < ANSWERS.length; i++) {
          LoadConnection.Answer a = c.post(head, body);
          got.add(a.status() + " " + new String(a.body(), StandardCharsets.UTF_8));
        }
        assertThat(got).containsExactly("200 hello", "400 bad!!", "413 big", "200 ok");
      }
      assertThat(accepted.get()).as("connections").isEqualTo(2);
      assertThat(heads.get(0))
          .startsWith("POST /v2/models/m/infer?x=1 HTTP/1.1\r\n")
          .contains("Content-Length: 2\r\n")
          .contains("Content-Type: application/json\r\n");
    }
  }

  @Test
  void aServerThatClosesWithoutAnAnswerIsAnIoFailure() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      CompletableFuture.runAsync(
          () -> {
            try (Socket s = server.accept()) {
              s.getInputStream().read(new byte[64]);
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          });
      try (LoadConnection c =
          new LoadConnection(URI.create("http://127.0.0.1:" + server.getLocalPort()), 10_000)) {
        assertThatThrownBy(() -> c.post(c.head(Map.of(), 0), new byte[0]))
            .isInstanceOf(IOException.class);
      }
    }
  }

  @Test
  void refusesAnythingButPlainHttp() {
    assertThatThrownBy(() -> new LoadConnection(URI.create("https://example.org/x"), 1000))
        .hasMessageContaining("plain HTTP");
  }

  /** Answers {@link #ANSWERS} in turn, one per request; returns the connections it accepted. */
  private static int serve(ServerSocket server, List<String> heads) {
    int connections = 0;
    int next = 0;
    try {
      while (next < ANSWERS.length) {
        try (Socket s = server.accept()) {
          connections++;
          BufferedReader in =
              new BufferedReader(
                  new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
          OutputStream out = s.getOutputStream();
          while (next < ANSWERS.length) {
            StringBuilder head = new StringBuilder();
            int length = 0;
            for (String line = in.readLine();
                line != null && !line.isEmpty();
                line = in.readLine()) {
              head.append(line).append("\r\n");
              if (line.startsWith("Content-Length: ")) {
                length = Integer.parseInt(line.substring(16));
              }
            }
            in.skip(length);
            synchronized (heads) {
              heads.add(head.toString());
            }
            String answer = ANSWERS[next++];
            out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            if (answer.contains("Connection: close")) {
              break;
            }
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return connections;
  }
}
