package dev.citadel.acceptance;

import static dev.citadel.acceptance.Platform.GATEWAY;
import static dev.citadel.acceptance.Platform.get;
import static dev.citadel.acceptance.Platform.newPlayer;
import static dev.citadel.acceptance.Platform.send;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.acceptance.Platform.Player;
import dev.citadel.acceptance.Platform.Response;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A sweep of malformed requests against every public route, through the gateway as a client would
 * send them: wrong method, wrong or missing media type, oversized, truncated JSON, wrong JSON
 * types, out-of-range numbers, over-long and odd Unicode strings, encoded path tricks. Every answer
 * is a 4xx problem (never a 5xx, never Spring's error page), and nothing changes: the players'
 * state, accounts and queue status read the same before and after.
 */
class MalformedRequestsIT {
  static Player alice;
  static Player bob;

  @BeforeAll
  static void start() {
    Platform.started();
    alice = newPlayer();
    bob = newPlayer();
  }

  /** One malformed request and what it is. */
  record Attempt(String what, String method, String path, String contentType, String body) {}

  /** A JSON route and a well-formed body for it. */
  record Route(String method, String path, Map<String, String> fields) {}

  static List<Route> jsonRoutes() {
    String me = "/api/game/players/" + alice.id();
    return List.of(
        new Route("POST", "/api/members", Map.of("nickname", "\"zz\"", "password", "\"pw\"")),
        new Route("POST", "/api/members/login", Map.of("nickname", "\"zz\"", "password", "\"pw\"")),
        new Route("PUT", "/api/members/me/nickname", Map.of("nickname", "\"zz\"")),
        new Route("POST", "/api/match/queue", Map.of("queue", "\"ranked\"")),
        new Route(
            "POST", me + "/commands/purchase", Map.of("itemId", "\"shield\"", "quantity", "1")),
        new Route(
            "POST", me + "/commands/use-item", Map.of("itemId", "\"shield\"", "quantity", "1")),
        new Route(
            "POST", me + "/commands/discard-item", Map.of("itemId", "\"shield\"", "quantity", "1")),
        new Route("POST", me + "/gifts", Map.of("to", "\"" + bob.id() + "\"", "gold", "1")),
        new Route("POST", me + "/friends/requests", Map.of("to", "\"" + bob.id() + "\"")));
  }

  static final List<String> WRONG_VALUES =
      List.of(
          "[]",
          "{}",
          "true",
          "null",
          "-1",
          "0",
          "2.5",
          "\"25\"",
          "1e308",
          "9223372036854775808",
          "99999999999999999999999999",
          "\"" + "x".repeat(10_000) + "\"",
          "\"\\u202e\\u200b\\u0000nick\"",
          "\"\\ud800\"",
          "\"\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00\"",
          "\"../../etc/passwd\"");

  static List<Attempt> attempts() {
    List<Attempt> all = new ArrayList<>();
    for (Route r : jsonRoutes()) {
      String good = object(r.fields());
      String wrongMethod = r.method().equals("PUT") ? "PATCH" : "PUT";
      all.add(new Attempt("wrong method", wrongMethod, r.path(), "application/json", good));
      all.add(new Attempt("text/plain", r.method(), r.path(), "text/plain", good));
      all.add(new Attempt("no media type", r.method(), r.path(), null, good));
      all.add(
          new Attempt("form", r.method(), r.path(), "application/x-www-form-urlencoded", "a=b"));
      all.add(new Attempt("empty body", r.method(), r.path(), "application/json", ""));
      all.add(
          new Attempt(
              "truncated",
              r.method(),
              r.path(),
              "application/json",
              good.substring(0, good.length() / 2)));
      all.add(new Attempt("not an object", r.method(), r.path(), "application/json", "[1,2,3]"));
      all.add(
          new Attempt(
              "oversized",
              r.method(),
              r.path(),
              "application/json",
              "{\"pad\":\"" + "x".repeat(2_000_000) + "\"}"));
      for (String field : r.fields().keySet()) {
        for (String value : WRONG_VALUES) {
          Map<String, String> fields = new LinkedHashMap<>(r.fields());
          fields.put(field, value);
          all.add(
              new Attempt(
                  field + "=" + abbreviate(value),
                  r.method(),
                  r.path(),
                  "application/json",
                  object(fields)));
        }
      }
    }
    String me = "/api/game/players/" + alice.id();
    for (String path :
        List.of(
            "/api/game/players/" + bob.id(),
            "/api/game/players/%2e%2e%2f" + alice.id(),
            "/api/game/players/" + alice.id() + "%2F..%2F" + bob.id(),
            "/api/game/players/..%2F..%2Finternal%2Fplayers",
            "/api/game/players/%00",
            "/api/game/players/" + "a".repeat(5000),
            "/internal/players/" + alice.id() + "/grants",
            "/api/game/%69nternal/players",
            "/api/game/leaderboard?limit=-1",
            "/api/game/leaderboard?limit=abc",
            "/api/game/leaderboard?limit=99999999999999999999",
            "/api/match/status?queue=" + "q".repeat(3000),
            "/api/match/status?queue=%00",
            me + "/commands/earn-gold",
            me + "/commands/%2e%2e",
            me + "/friends/requests/" + bob.id() + "/accept",
            me + "/friends/" + "%2F",
            "/actuator/prometheus",
            "/api/members/me/../../../actuator/env")) {
      all.add(new Attempt("path " + abbreviate(path), "GET", path, null, null));
      all.add(new Attempt("path " + abbreviate(path), "POST", path, "application/json", "{}"));
      all.add(new Attempt("path " + abbreviate(path), "DELETE", path, null, null));
    }
    all.add(
        new Attempt(
            "queue leave, unknown queue", "DELETE", "/api/match/queue?queue=nope", null, null));
    return all;
  }

  @Test
  void every_malformed_request_is_a_4xx_problem_and_changes_nothing() {
    Map<String, String> before = state();
    List<String> wrong = new ArrayList<>();
    int tried = 0;
    for (Attempt a : attempts()) {
      Response r = send(a);
      tried++;
      String problem = problemOf(r);
      if (r.status() < 400 || r.status() >= 500 || problem != null) {
        wrong.add(
            a.method()
                + " "
                + abbreviate(a.path())
                + " ["
                + a.what()
                + "]: "
                + r.status()
                + " "
                + abbreviate(r.body())
                + (problem == null ? "" : " (" + problem + ")"));
      }
    }
    System.out.println("[malformed] " + tried + " requests, " + wrong.size() + " answered wrongly");
    assertThat(wrong).as("requests not answered with a 4xx problem").isEmpty();
    assertThat(state()).as("state after the sweep").isEqualTo(before);
  }

  /** Why this is not a 4xx problem (null if it is one). */
  static String problemOf(Response r) {
    if (r.status() == 414) {
      // A request line over Netty's limit (4 KB) is refused by the HTTP decoder itself, before
      // any of our code or Spring's runs: a bare 414 is all that can be said there.
      return null;
    }
    if (r.body() == null || r.body().isEmpty()) {
      return r.status() == 405 || r.status() == 404 || r.status() == 401 || r.status() == 403
          ? null
          : "no body";
    }
    String type = r.header("Content-Type");
    if (type == null || !type.startsWith("application/problem+json")) {
      return "Content-Type " + type;
    }
    JsonNode json = r.json();
    if (json.path("status").asInt() != r.status() || json.path("detail").asText().isEmpty()) {
      return "not a problem with a detail";
    }
    return null;
  }

  Response send(Attempt a) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(GATEWAY + a.path()))
            .header("Authorization", "Bearer " + alice.token());
    if (a.contentType() != null) {
      b.header("Content-Type", a.contentType());
    }
    HttpRequest.BodyPublisher body =
        a.body() == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(a.body());
    return Platform.send(b.method(a.method(), body));
  }

  /** Everything a malformed request could have changed, as the players read it. */
  static Map<String, String> state() {
    Map<String, String> s = new LinkedHashMap<>();
    for (Player p : List.of(alice, bob)) {
      s.put(p.id() + " game", withoutVolatile(read("/api/game/players/" + p.id(), p.token())));
      s.put(p.id() + " member", read("/api/members/me", p.token()));
      s.put(p.id() + " ranked", read("/api/match/status?queue=ranked", p.token()));
    }
    return s;
  }

  /**
   * A read past the player's rate limit: the sweep spends the player's one bucket (shared by every
   * route), so a read right after may be refused with 429 until it refills.
   */
  static String read(String path, String token) {
    java.util.concurrent.atomic.AtomicReference<Platform.Response> last =
        new java.util.concurrent.atomic.AtomicReference<>();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(
            () -> {
              last.set(get(GATEWAY, path, token));
              return last.get().status() != 429;
            });
    return last.get().body();
  }

  static String withoutVolatile(String json) {
    return json;
  }

  static String object(Map<String, String> fields) {
    StringBuilder b = new StringBuilder("{");
    fields.forEach(
        (k, v) ->
            b.append(b.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
    return b.append('}').toString();
  }

  static String abbreviate(String s) {
    return s == null ? "" : s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
