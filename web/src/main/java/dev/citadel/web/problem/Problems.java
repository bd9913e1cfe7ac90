package dev.citadel.web.problem;

import java.net.ConnectException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.core.codec.DecodingException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.MissingRequestValueException;
import org.springframework.web.server.NotAcceptableStatusException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;

/**
 * What the framework raises before (or instead of) our own code, as a problem in our own words:
 * wrong method 405 (with {@code Allow}), wrong media type 415, unreadable or mistyped body 400 (the
 * field named when it is one of ours), too large 413, no such route 404, a backend that cannot be
 * reached 503 (with {@code Retry-After}). Pure: no parser's, decoder's or class's text ever reaches
 * a caller, only the status and words chosen here.
 */
public final class Problems {
  private static final Pattern FIELD = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,39}");

  private Problems() {}

  /** A problem to answer, with the headers it needs. */
  public record Answer(HttpStatus status, String detail, HttpHeaders headers) {
    public ProblemDetail body() {
      return ProblemDetail.forStatusAndDetail(status, detail);
    }
  }

  /** The answer for a framework error, or empty for anything else (unexpected: 500, logged). */
  public static Optional<Answer> of(Throwable error) {
    if (caused(error, DataBufferLimitException.class)
        || (error instanceof ResponseStatusException tooLarge
            && tooLarge.getStatusCode().value() == HttpStatus.CONTENT_TOO_LARGE.value())) {
      return answer(HttpStatus.CONTENT_TOO_LARGE, "the request body is too large");
    }
    if (error instanceof MethodNotAllowedException e) {
      Set<HttpMethod> allowed = e.getSupportedMethods();
      HttpHeaders headers = new HttpHeaders();
      headers.setAllow(allowed);
      String list =
          allowed.stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", "));
      return Optional.of(
          new Answer(
              HttpStatus.METHOD_NOT_ALLOWED,
              "this route does not take " + e.getHttpMethod() + "; it takes " + list,
              headers));
    }
    if (error instanceof UnsupportedMediaTypeStatusException) {
      return answer(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          "the body must be JSON (Content-Type: application/json)");
    }
    if (error instanceof NotAcceptableStatusException) {
      return answer(HttpStatus.NOT_ACCEPTABLE, "this route answers application/json only");
    }
    if (error instanceof MissingRequestValueException e) {
      String name = e.getName();
      return answer(
          HttpStatus.BAD_REQUEST,
          FIELD.matcher(name).matches()
              ? e.getLabel() + " '" + name + "' is required"
              : "a required value is missing");
    }
    if (error instanceof ServerWebInputException e) {
      return answer(HttpStatus.BAD_REQUEST, inputProblem(e));
    }
    if (causedBy(error, POOL_ACQUIRE_TIMEOUT) || causedBy(error, POOL_ACQUIRE_PENDING_LIMIT)) {
      // Every pooled connection to the service behind was busy for the acquire timeout, or too
      // many requests already waited for one (a pending bound, if one is set): refused before
      // anything was sent (overload, not a lost answer: nothing acted).
      return unavailable("too many requests under way to the service behind this one; try again");
    }
    if (error instanceof ResponseStatusException e
        && e.getStatusCode().value() == HttpStatus.GATEWAY_TIMEOUT.value()) {
      // A proxy's response timeout (the gateway's): the request went out, so it may have acted.
      return answer(
          HttpStatus.GATEWAY_TIMEOUT,
          "a service behind this one did not answer in time; it may have acted: check before"
              + " repeating (where a route takes an Idempotency-Key, repeat with the same key)");
    }
    if (error instanceof ResponseStatusException e) {
      HttpStatus status = HttpStatus.resolve(e.getStatusCode().value());
      if (status == null) {
        status = HttpStatus.BAD_REQUEST;
      }
      // Our own code raises 401, 403 and 409 with words meant for the caller; the framework's
      // reasons for anything else (a resource path, a handler) are not for callers.
      boolean ours =
          e.getReason() != null
              && (status == HttpStatus.UNAUTHORIZED
                  || status == HttpStatus.FORBIDDEN
                  || status == HttpStatus.CONFLICT);
      String detail =
          status == HttpStatus.NOT_FOUND
              ? "no such route"
              : ours ? e.getReason() : status.getReasonPhrase().toLowerCase();
      return Optional.of(new Answer(status, detail, new HttpHeaders()));
    }
    if (caused(error, ConnectException.class)) {
      return unavailable("a service behind this one cannot be reached; try again");
    }
    if (causedBy(error, ABORTED)) {
      // A pooled connection to a service that just died, found closed before the request went
      // out: nothing was sent, so nothing was done.
      return unavailable("a service behind this one cannot be reached; try again");
    }
    if (causedBy(error, PREMATURE_CLOSE) || connectionReset(error)) {
      // The service behind closed the connection mid-request (it died): it may have acted.
      return unavailable(
          "a service behind this one went away during the request; it may have acted: try again"
              + " with the same Idempotency-Key");
    }
    if (find(error, Problems::storageUnavailable) != null) {
      return unavailable(
          "storage is unavailable for a moment; try again with the same Idempotency-Key");
    }
    if (caused(error, TimeoutException.class)
        || caused(error, io.netty.handler.timeout.ReadTimeoutException.class)) {
      return unavailable("a service behind this one did not answer in time; try again");
    }
    return Optional.empty();
  }

  private static Optional<Answer> unavailable(String detail) {
    HttpHeaders headers = new HttpHeaders();
    headers.set(HttpHeaders.RETRY_AFTER, "1");
    return Optional.of(new Answer(HttpStatus.SERVICE_UNAVAILABLE, detail, headers));
  }

  private static Optional<Answer> answer(HttpStatus status, String detail) {
    return Optional.of(new Answer(status, detail, new HttpHeaders()));
  }

  /** Our words for a body that could not be read; the field named when it is a plain name. */
  static String inputProblem(ServerWebInputException e) {
    Throwable decoding = find(e, DecodingException.class);
    if (decoding == null) {
      return e.getCause() == null && e.getReason() != null && e.getReason().contains("body")
          ? "a JSON body is required"
          : "the request could not be read";
    }
    Optional<String> field = field(decoding);
    if (field.isPresent()) {
      return "'" + field.get() + "' has the wrong type or form (see the API documentation)";
    }
    return "the body must be a JSON object of the documented shape";
  }

  /** The last property name in Jackson's path, if it is a plain name. */
  private static Optional<String> field(Throwable decoding) {
    for (Throwable t = decoding; t != null; t = t.getCause()) {
      String name = null;
      if (t instanceof tools.jackson.databind.DatabindException j && !j.getPath().isEmpty()) {
        name = j.getPath().get(j.getPath().size() - 1).getPropertyName();
      }
      if (name != null && FIELD.matcher(name).matches()) {
        return Optional.of(name);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Optional.empty();
  }

  /** A connection reset or broken mid-request (the service behind was killed). */
  private static boolean connectionReset(Throwable error) {
    return find(
            error,
            t ->
                t instanceof java.io.IOException
                    && t.getMessage() != null
                    && (t.getMessage().contains("Connection reset")
                        || t.getMessage().contains("Broken pipe")))
        != null;
  }

  /**
   * The database cannot be reached or lost the connection (named, not imported: this module does
   * not depend on the storage libraries). Subclasses count.
   */
  static final java.util.Set<String> STORAGE_UNAVAILABLE =
      java.util.Set.of(
          "org.springframework.transaction.CannotCreateTransactionException",
          "org.springframework.dao.DataAccessResourceFailureException",
          "org.springframework.dao.TransientDataAccessResourceException",
          "io.r2dbc.spi.R2dbcTransientException",
          "io.r2dbc.spi.R2dbcNonTransientResourceException",
          // Redis did not answer within the client's timeout (Spring Data Redis's translation of
          // Lettuce's, and Lettuce's own where it is not translated): busy, not a bug.
          "org.springframework.dao.QueryTimeoutException",
          "io.lettuce.core.RedisCommandTimeoutException",
          // Redis answering that it cannot serve now: loading its data after a restart, a
          // replica read-only after a failover, busy in a long script.
          "io.lettuce.core.RedisLoadingException",
          "io.lettuce.core.RedisReadOnlyException",
          "io.lettuce.core.RedisBusyException",
          "io.lettuce.core.RedisConnectionException");

  /** Redis errors of the moment that Lettuce gives no class of their own: out of memory, ... */
  static final java.util.List<String> REDIS_UNAVAILABLE_REPLIES =
      java.util.List.of("OOM ", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS");

  /**
   * Lettuce's own refusals (a plain {@code RedisException}): the connection is down and commands
   * are refused meanwhile (RedisFailFastAutoConfiguration), or it was closed before or under the
   * command.
   */
  static final java.util.List<String> REDIS_CLIENT_UNAVAILABLE =
      java.util.List.of("Currently not connected", "Connection closed", "Connection is closed");

  private static boolean storageUnavailable(Throwable t) {
    for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
      if (STORAGE_UNAVAILABLE.contains(c.getName())) {
        return true;
      }
      if (c.getName().equals("io.lettuce.core.RedisCommandExecutionException")
          && t.getMessage() != null
          && REDIS_UNAVAILABLE_REPLIES.stream().anyMatch(t.getMessage()::startsWith)) {
        return true;
      }
      if (c.getName().equals("io.lettuce.core.RedisException")
          && t.getMessage() != null
          && REDIS_CLIENT_UNAVAILABLE.stream().anyMatch(t.getMessage()::startsWith)) {
        return true;
      }
    }
    return false;
  }

  /** Reactor Netty's client error when the peer closes before answering (named: no dependency). */
  static final String PREMATURE_CLOSE = "reactor.netty.http.client.PrematureCloseException";

  static final String ABORTED = "reactor.netty.channel.AbortedException";

  /** Reactor Netty's pool found no free connection in time (named: no dependency). */
  static final String POOL_ACQUIRE_TIMEOUT =
      "reactor.netty.internal.shaded.reactor.pool.PoolAcquireTimeoutException";

  static final String POOL_ACQUIRE_PENDING_LIMIT =
      "reactor.netty.internal.shaded.reactor.pool.PoolAcquirePendingLimitException";

  private static boolean causedBy(Throwable error, String className) {
    return find(error, t -> t.getClass().getName().equals(className)) != null;
  }

  private static boolean caused(Throwable error, Class<? extends Throwable> type) {
    return find(error, type) != null;
  }

  private static Throwable find(Throwable error, Class<? extends Throwable> type) {
    return find(error, type::isInstance);
  }

  /** The first {@code type} in {@code error}'s chain of causes (itself included), if any. */
  public static <T extends Throwable> Optional<T> cause(Throwable error, Class<T> type) {
    return Optional.ofNullable(find(error, type)).map(type::cast);
  }

  private static Throwable find(Throwable error, java.util.function.Predicate<Throwable> test) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (test.test(t)) {
        return t;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  private static final tools.jackson.databind.json.JsonMapper JSON =
      tools.jackson.databind.json.JsonMapper.builder().build();

  /**
   * An RFC 9457 problem body, for the places that write a response without a controller (the
   * security chain, gateway filters, the last-resort handler): Jackson escapes the detail.
   */
  public static byte[] body(HttpStatusCode status, String detail) {
    java.util.Map<String, Object> problem = new java.util.LinkedHashMap<>();
    problem.put("type", "about:blank");
    problem.put(
        "title",
        status instanceof HttpStatus known ? known.getReasonPhrase() : String.valueOf(status));
    problem.put("status", status.value());
    problem.put("detail", detail);
    return JSON.writeValueAsBytes(problem);
  }
}
