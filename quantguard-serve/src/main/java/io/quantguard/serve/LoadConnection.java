package io.quantguard.serve;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One load client's blocking HTTP/1.1 keep-alive connection: writes a POST, reads the whole answer
 * (by {@code Content-Length}, chunked, or up to the close). The load generator shares the cores of
 * the server it measures, and {@code java.net.http.HttpClient} spent about 1.1 ms of CPU per
 * request there (its selector thread and futures), more than the server itself; this spends a few
 * microseconds, so the figures measure the server. Reconnects after a close or an I/O error.
 */
final class LoadConnection implements Closeable {
  /** An answer: its status and its body. */
  record Answer(int status, byte[] body) {}

  private final String host;
  private final int port;
  private final String target;
  private final int timeoutMillis;
  private @Nullable Socket socket;
  private @Nullable InputStream in;
  private @Nullable OutputStream out;

  LoadConnection(URI uri, int timeoutMillis) {
    if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "the load generator speaks plain HTTP: give an http://HOST:PORT URL, not " + uri);
    }
    this.host = uri.getHost();
    this.port = uri.getPort() < 0 ? 80 : uri.getPort();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    this.target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    this.timeoutMillis = timeoutMillis;
  }

  /** The request head of a POST of {@code length} bytes with these headers, made once per call. */
  byte[] head(Map<String, String> headers, int length) {
    StringBuilder h = new StringBuilder(256);
    h.append("POST ").append(target).append(" HTTP/1.1\r\n");
    h.append("Host: ").append(host).append(':').append(port).append("\r\n");
    h.append("Content-Length: ").append(length).append("\r\n");
    headers.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
    h.append("\r\n");
    return h.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * Sends one request (its {@link #head} and body) and reads its answer. An I/O failure closes the
   * connection (the next request opens a new one) and is not retried: it counts as no answer.
   */
  Answer post(byte[] head, byte[] body) throws IOException {
    try {
      return exchange(head, body);
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  private Answer exchange(byte[] head, byte[] body) throws IOException {
    if (socket == null) {
      Socket s = new Socket();
      s.setTcpNoDelay(true);
      s.setSoTimeout(timeoutMillis);
      s.connect(new InetSocketAddress(host, port), timeoutMillis);
      socket = s;
      in = new BufferedInputStream(s.getInputStream(), 1 << 16);
      out = new BufferedOutputStream(s.getOutputStream(), 1 << 16);
    }
    OutputStream o = out;
    InputStream i = in;
    if (o == null || i == null) {
      throw new IllegalStateException("connection streams are open with the socket");
    }
    IOException writeFailure = null;
    try {
      o.write(head);
      o.write(body);
      o.flush();
    } catch (IOException e) {
      // A server that refuses a body may answer and close before it is all written.
      writeFailure = e;
    }
    try {
      Answer a = read(i);
      if (writeFailure != null) {
        close();
      }
      return a;
    } catch (IOException e) {
      if (writeFailure != null) {
        e.addSuppressed(writeFailure);
      }
      throw e;
    }
  }

  private Answer read(InputStream i) throws IOException {
    while (true) {
      String status = line(i);
      String[] parts = status.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP/1.1 status line: " + status);
      }
      int code;
      try {
        code = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IOException("not an HTTP status: " + status, e);
      }
      long length = -1;
      boolean chunked = false;
      boolean closes = parts[0].equals("HTTP/1.0");
      for (String h = line(i); !h.isEmpty(); h = line(i)) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
          case "connection" -> closes = value.equalsIgnoreCase("close");
          default -> {}
        }
      }
      if (code >= 100 && code < 200) {
        continue; // an interim answer: the final one follows
      }
      byte[] body;
      if (chunked) {
        body = chunks(i);
      } else if (length >= 0) {
        body = i.readNBytes(Math.toIntExact(length));
        if (body.length < length) {
          throw new EOFException("the answer ended after " + body.length + " of " + length);
        }
      } else {
        body = i.readAllBytes();
        closes = true;
      }
      if (closes) {
        close();
      }
      return new Answer(code, body);
    }
  }

  private static byte[] chunks(InputStream i) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line(i);
      int semi = size.indexOf(';');
      int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (n == 0) {
        for (String t = line(i); !t.isEmpty(); t = line(i)) {
          // trailers: none are used
        }
        return body.toByteArray();
      }
      byte[] c = i.readNBytes(n);
      if (c.length < n) {
        throw new EOFException("a chunk ended early");
      }
      body.write(c);
      line(i);
    }
  }

  /** One header line without its CRLF. */
  private static String line(InputStream i) throws IOException {
    StringBuilder b = new StringBuilder(64);
    while (true) {
      int c = i.read();
      if (c < 0) {
        throw new EOFException("the server closed the connection");
      }
      if (c == '\n') {
        int n = b.length();
        return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
      }
      b.append((char) c);
    }
  }

  @Override
  public void close() {
    Socket s = socket;
    socket = null;
    in = null;
    out = null;
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closing a broken connection: nothing left to release
      }
    }
  }
}
