package io.quantguard.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.PrintWriter;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.jspecify.annotations.Nullable;

/**
 * The answers Jetty writes itself — a request that arrives while the server drains, a request Jetty
 * cannot parse — in the Open Inference Protocol's error shape ({@code {"error": "..."}}), as JSON
 * unless the client asks for HTML: a client of this server parses JSON, not Jetty's error page.
 */
final class JsonErrorHandler extends ErrorHandler {

  JsonErrorHandler() {
    setDefaultResponseMimeType("application/json");
    setShowStacks(false);
  }

  @Override
  protected void writeErrorJson(
      Request request,
      PrintWriter writer,
      int code,
      @Nullable String message,
      @Nullable Throwable cause) {
    String text =
        code == HttpStatus.SERVICE_UNAVAILABLE_503
            ? "the server is stopping: send the request to another replica"
            : (message != null ? message : HttpStatus.getMessage(code));
    writer.write(JsonNodeFactory.instance.objectNode().put("error", text).toString());
  }
}
