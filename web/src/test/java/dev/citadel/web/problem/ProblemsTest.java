package dev.citadel.web.problem;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import reactor.netty.http.client.PrematureCloseException;

/** Failures of a service behind this one are 503 with Retry-After, never a bare 500. */
class ProblemsTest {
  @Test
  void a_service_that_cannot_be_reached_is_503() {
    var answer =
        Problems.of(new IllegalStateException(new ConnectException("refused"))).orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
  }

  @Test
  void a_body_over_the_limit_is_413_whichever_of_the_framework_s_exceptions_says_so() {
    var answer =
        Problems.of(new org.springframework.web.server.ContentTooLargeException(null))
            .orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.CONTENT_TOO_LARGE);
    assertThat(answer.detail()).contains("too large");
  }

  @Test
  void a_service_that_dies_mid_request_is_503_and_says_it_may_have_acted() {
    var answer =
        Problems.of(new RuntimeException(PrematureCloseException.TEST_EXCEPTION)).orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.detail()).contains("Idempotency-Key");
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
  }

  @Test
  void a_connection_reset_by_a_dying_service_is_503_and_says_it_may_have_acted() {
    var answer =
        Problems.of(
                new IllegalStateException(
                    new java.io.IOException(
                        "recvAddress(..) failed with error(-104): Connection reset by peer")))
            .orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.detail()).contains("Idempotency-Key");
  }

  /** A class named like the storage library's, so this module needs no storage dependency. */
  static class CannotCreateTransactionException extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  @Test
  void storage_that_cannot_be_reached_is_503_not_500() {
    assertThat(Problems.STORAGE_UNAVAILABLE)
        .contains("org.springframework.transaction.CannotCreateTransactionException");
    // Found by name anywhere in the cause chain, subclasses included.
    var answer =
        Problems.of(new RuntimeException(new io.r2dbc.spi.R2dbcTransientResourceException("down")))
            .orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
    assertThat(Problems.of(new CannotCreateTransactionException())).isEmpty();
  }

  @Test
  void a_full_connection_pool_past_its_acquire_timeout_is_503_to_retry() {
    // r2dbc-pool's maxAcquireTime error (transient, so already 503): kept 503 with Retry-After.
    var answer =
        Problems.of(
                new io.r2dbc.spi.R2dbcTimeoutException(
                    "Connection acquisition timed out after 5000ms",
                    new java.util.concurrent.TimeoutException()))
            .orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.detail()).startsWith("storage is unavailable");
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
  }

  /** Reactor Netty's pool refusing a request: past its acquire timeout, or past a pending bound. */
  @Test
  void a_proxy_pool_that_refuses_a_request_is_503_to_retry_whichever_way() {
    for (Throwable refused :
        List.<Throwable>of(
            new reactor.netty.internal.shaded.reactor.pool.PoolAcquireTimeoutException(
                java.time.Duration.ofSeconds(1)),
            new reactor.netty.internal.shaded.reactor.pool.PoolAcquirePendingLimitException(100))) {
      Problems.Answer answer = Problems.of(new RuntimeException(refused)).orElseThrow();
      assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
      assertThat(answer.headers().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
      assertThat(answer.detail()).startsWith("too many requests under way");
    }
  }

  @Test
  void a_proxy_s_response_timeout_is_504_and_says_the_request_may_have_acted() {
    var answer =
        Problems.of(
                new org.springframework.web.server.ResponseStatusException(
                    HttpStatus.GATEWAY_TIMEOUT, "Response took longer than timeout: PT15S"))
            .orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.GATEWAY_TIMEOUT);
    assertThat(answer.detail()).contains("did not answer in time").contains("Idempotency-Key");
    assertThat(answer.detail()).doesNotContain("PT15S");
  }

  /**
   * Redis saying it cannot serve for now (reloading after a restart, read-only after a failover,
   * out of memory) is 503, as a timeout is; an error in the command itself is not.
   */
  @Test
  void redis_unable_to_serve_for_now_is_503_and_a_bad_command_is_not() {
    for (Throwable moment :
        java.util.List.of(
            new io.lettuce.core.RedisLoadingException("LOADING Redis is loading the dataset"),
            new io.lettuce.core.RedisReadOnlyException(
                "READONLY You can't write against a replica"),
            new io.lettuce.core.RedisBusyException("BUSY Redis is busy running a script"),
            new io.lettuce.core.RedisCommandExecutionException(
                "OOM command not allowed when used memory > 'maxmemory'"),
            new io.lettuce.core.RedisCommandExecutionException(
                "MASTERDOWN Link with MASTER is down"),
            new io.lettuce.core.RedisException("Currently not connected. Commands are rejected."),
            new io.lettuce.core.RedisException("Connection closed"),
            new io.lettuce.core.RedisException("Connection is closed"))) {
      var answer = Problems.of(new RuntimeException("wrapped", moment));
      assertThat(answer).as(moment.getMessage()).isPresent();
      assertThat(answer.get().status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    }
    assertThat(
            Problems.of(
                new RuntimeException(
                    new io.lettuce.core.RedisCommandExecutionException(
                        "ERR wrong number of arguments for 'get' command"))))
        .isEmpty();
  }

  @org.junit.jupiter.api.Test
  void a_problem_body_carries_any_detail_as_json() throws Exception {
    String detail = "a \"quoted\" \\ line\nbreak \u0000 \u202e and \uD83D\uDE00";
    byte[] body = Problems.body(HttpStatus.CONFLICT, detail);
    com.fasterxml.jackson.databind.JsonNode read =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    assertThat(read.path("detail").asText()).isEqualTo(detail);
    assertThat(read.path("status").asInt()).isEqualTo(409);
    assertThat(read.path("title").asText()).isEqualTo("Conflict");
    assertThat(read.path("type").asText()).isEqualTo("about:blank");
  }

  @Test
  void a_connection_closed_before_the_request_was_sent_is_a_503_to_retry() {
    var answer =
        Problems.of(
                new IllegalStateException(
                    new reactor.netty.channel.AbortedException(
                        "Connection has been closed BEFORE send operation")))
            .orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
  }
}
