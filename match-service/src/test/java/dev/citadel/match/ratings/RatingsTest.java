package dev.citadel.match.ratings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.web.problem.ApiException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** How a join reads a rating when game-state is busy: pure HTTP against a stand-in server. */
class RatingsTest {
  private final List<DisposableServer> servers = new java.util.ArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(DisposableServer::disposeNow);
  }

  /** A stand-in game-state answering every request with {@code status} and {@code body}. */
  WebClient answering(int status, String body) {
    DisposableServer server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (request, response) ->
                    response
                        .status(status)
                        .header("Content-Type", "application/json")
                        .header("Retry-After", "1")
                        .sendString(reactor.core.publisher.Mono.just(body)))
            .bindNow();
    servers.add(server);
    return WebClient.create("http://127.0.0.1:" + server.port());
  }

  @Test
  void a_busy_game_state_is_a_503_to_the_joining_player_not_a_500() {
    Ratings ratings = new Ratings(List.of(answering(503, "{\"detail\":\"busy\"}")));
    assertThatThrownBy(() -> ratings.of("p1", "ranked").block(Duration.ofSeconds(10)))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> assertThat(e.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
  }

  @Test
  void a_busy_instance_is_passed_over_for_the_next() {
    Ratings ratings =
        new Ratings(
            List.of(
                answering(503, "{}"),
                answering(
                    200,
                    "{\"playerId\":\"p1\",\"queue\":\"ranked\",\"rating\":1234,\"games\":3}")));
    assertThat(ratings.of("p1", "ranked").block(Duration.ofSeconds(10)).rating()).isEqualTo(1234);
  }

  @Test
  void a_match_state_is_asked_of_the_next_instance_while_one_cannot_answer() {
    Ratings ratings =
        new Ratings(List.of(answering(503, "{}"), answering(200, "{\"state\":\"ENDED\"}")));
    assertThat(ratings.matchState("m1").block(Duration.ofSeconds(10))).isEqualTo("ENDED");
    Ratings none = new Ratings(List.of(answering(502, "{}"), answering(404, "{}")));
    assertThat(none.matchState("m1").block(Duration.ofSeconds(10))).isEqualTo("NONE");
  }

  @Test
  void no_instance_able_to_say_a_match_state_is_a_503_to_ask_again() {
    Ratings ratings = new Ratings(List.of(answering(503, "{}"), answering(503, "{}")));
    assertThatThrownBy(() -> ratings.matchState("m1").block(Duration.ofSeconds(10)))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> assertThat(e.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE))
        .matches(Ratings::forNow);
    Ratings refusing = new Ratings(List.of(answering(403, "{}")));
    assertThatThrownBy(() -> refusing.matchState("m1").block(Duration.ofSeconds(10)))
        .matches(e -> !Ratings.forNow(e));
  }

  @Test
  void a_refusal_of_the_request_itself_is_not_turned_into_a_503() {
    Ratings ratings = new Ratings(List.of(answering(403, "{}")));
    assertThatThrownBy(() -> ratings.of("p1", "ranked").block(Duration.ofSeconds(10)))
        .isNotInstanceOf(ApiException.class);
  }
}
