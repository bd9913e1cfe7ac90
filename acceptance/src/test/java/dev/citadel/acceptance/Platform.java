package dev.citadel.acceptance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.RSAKey;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.platform.LocalPlatform;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

/**
 * The whole local platform, as {@code ./run-local.sh} runs it (every service in its own JVM on its
 * documented port), started once for this test JVM; and a plain HTTP client to talk to it from
 * outside.
 */
final class Platform {
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  static final URI GATEWAY = URI.create("http://127.0.0.1:8080");
  static final URI MEMBER = URI.create("http://127.0.0.1:8081");
  static final URI MATCH = URI.create("http://127.0.0.1:8082");
  static final URI GAME_STATE_A = URI.create("http://127.0.0.1:8083");
  static final URI GAME_STATE_B = URI.create("http://127.0.0.1:8084");
  static final ObjectMapper JSON = new ObjectMapper();

  /** The JDK's client as a game client would use it (its defaults, kept-alive connections). */
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static LocalPlatform platform;

  private Platform() {}

  static synchronized LocalPlatform started() {
    if (platform == null) {
      platform = LocalPlatform.forTests(ROOT);
      LocalPlatform running = platform;
      // The run directory goes with the platform: its services' logs are kept in target first, so
      // a failure seen only on CI (a request that got no answer) can be read afterwards.
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      running.copyLogs(Path.of("target", "platform-logs"));
                    } finally {
                      running.stop();
                    }
                  },
                  "acceptance-platform-stop"));
      // With the tests' start-up cache: the archives earlier modules' tests wrote.
      LocalPlatform.Options options =
          new LocalPlatform.Options(Infrastructure.Ports.FREE, false, false).withStartupCache();
      // -Dcitadel.images=true: every service from its container image (./run-images.sh).
      platform.start(Boolean.getBoolean("citadel.images") ? options.fromImages() : options);
    }
    return platform;
  }

  /** An HTTP answer. */
  record Response(int status, HttpResponse<String> raw) {
    String body() {
      return raw.body();
    }

    JsonNode json() {
      try {
        return JSON.readTree(raw.body());
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + raw.body(), e);
      }
    }

    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + raw.body();
    }
  }

  static Response send(HttpRequest.Builder request) {
    HttpRequest built = request.timeout(Duration.ofSeconds(30)).build();
    long started = System.nanoTime();
    try {
      HttpResponse<String> r = HTTP.send(built, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r);
    } catch (IOException e) {
      // Which request, and after how long: a CI log shows little more than this line.
      throw new UncheckedIOException(
          built.method()
              + " "
              + built.uri()
              + " failed after "
              + Duration.ofNanos(System.nanoTime() - started).toMillis()
              + " ms: "
              + e
              + (e instanceof java.net.http.HttpTimeoutException && built.uri().getPort() == 8080
                  ? "; " + gatewayThreads()
                  : ""),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The gateway's threads when a request through it got no answer: the whole dump goes to {@code
   * target/platform-logs}, and what its event loops and Redis client were doing (state and top
   * frame, on one line) into the failure's message, which is all a CI log may show of it.
   */
  static String gatewayThreads() {
    try {
      // This JVM's own platform: its gateway is a child process (not a developer's, not images).
      java.util.Optional<ProcessHandle> gateway =
          ProcessHandle.current()
              .descendants()
              .filter(
                  h ->
                      h.info()
                          .commandLine()
                          .map(c -> c.contains("gateway-") && c.contains(".jar"))
                          .orElse(false))
              .findFirst();
      if (gateway.isEmpty()) {
        return "no gateway process of this test's platform found";
      }
      Path out = Path.of("target", "platform-logs");
      Files.createDirectories(out);
      Path dumpFile = out.resolve("gateway-threads-" + System.currentTimeMillis() + ".txt");
      Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
      Process p =
          new ProcessBuilder(jcmd.toString(), Long.toString(gateway.get().pid()), "Thread.print")
              .redirectErrorStream(true)
              .redirectOutput(dumpFile.toFile())
              .start();
      // A gateway that cannot reach a safepoint never answers: the test fails, it does not hang.
      if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "the gateway did not give a thread dump within 20 s (a JVM that cannot stop)";
      }
      String dump = Files.readString(dumpFile, StandardCharsets.UTF_8);
      StringBuilder summary = new StringBuilder("gateway threads:");
      for (String block : dump.split("\n\n")) {
        if (block.startsWith("\"reactor-http") || block.startsWith("\"lettuce")) {
          String[] lines = block.split("\n");
          String name = lines[0].substring(1, lines[0].indexOf('"', 1));
          String state =
              lines.length > 1 ? lines[1].trim().replace("java.lang.Thread.State: ", "") : "?";
          String top = lines.length > 2 ? lines[2].trim() : "";
          summary
              .append(' ')
              .append(name)
              .append('=')
              .append(state)
              .append(' ')
              .append(top)
              .append(';');
        }
      }
      return summary.toString();
    } catch (IOException | RuntimeException e) {
      return "no thread dump of the gateway: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "no thread dump of the gateway: interrupted";
    }
  }

  static HttpRequest.Builder request(URI base, String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  static Response get(URI base, String path, String token) {
    return send(request(base, path, token).GET());
  }

  static Response post(URI base, String path, String token, String json) {
    return send(
        request(base, path, token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** A player signed up and logged in through the gateway, whose game state exists. */
  record Player(String id, String nickname, String token) {}

  static Player newPlayer() {
    String nickname = "a" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String credentials = "{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}";
    Response signed = post(GATEWAY, "/api/members", null, credentials);
    if (signed.status() != 201) {
      throw new AssertionError("sign-up: " + signed);
    }
    Response login = post(GATEWAY, "/api/members/login", null, credentials);
    if (login.status() != 200) {
      throw new AssertionError("log-in: " + login);
    }
    Player p =
        new Player(
            signed.json().get("playerId").asText(), nickname, login.json().get("token").asText());
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> get(GATEWAY, "/api/game/players/" + p.id(), p.token()).status() == 200);
    return p;
  }

  static JsonNode player(Player p) {
    Response r = get(GATEWAY, "/api/game/players/" + p.id(), p.token());
    if (r.status() != 200) {
      throw new AssertionError("read " + p.id() + ": " + r);
    }
    return r.json();
  }

  /** A service token from member-service's token endpoint, as that client gets it. */
  static String serviceToken(String client, String audience) {
    String basic =
        Base64.getEncoder()
            .encodeToString(
                (client + ":" + started().clientSecret(client)).getBytes(StandardCharsets.UTF_8));
    Response r =
        send(
            HttpRequest.newBuilder(MEMBER.resolve("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "grant_type=client_credentials&audience=" + audience)));
    if (r.status() != 200) {
      throw new AssertionError("token for " + client + ": " + r);
    }
    return r.json().get("access_token").asText();
  }

  /** A game server's grant, straight to a game-state instance. */
  static Response grant(String playerId, String json) {
    return post(
        GAME_STATE_A,
        "/internal/players/" + playerId + "/grants",
        serviceToken("game-server", "game-state"),
        json);
  }

  /** The key member-service signs with (the platform keeps it in its data directory). */
  static RSAKey signingKey() {
    try {
      String pem =
          Files.readString(
              ROOT.resolve(".citadel/keys/jwt-signing.pem"), StandardCharsets.US_ASCII);
      String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      KeyFactory rsa = KeyFactory.getInstance("RSA");
      RSAPrivateCrtKey priv =
          (RSAPrivateCrtKey)
              rsa.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
      RSAPublicKey pub =
          (RSAPublicKey)
              rsa.generatePublic(new RSAPublicKeySpec(priv.getModulus(), priv.getPublicExponent()));
      return new RSAKey.Builder(pub).privateKey(priv).keyIDFromThumbprint().build();
    } catch (IOException | GeneralSecurityException | JOSEException e) {
      throw new IllegalStateException("cannot read the platform's signing key", e);
    }
  }

  static Map<String, URI> services() {
    return Map.of(
        "member-service", MEMBER,
        "match-service", MATCH,
        "game-state-a", GAME_STATE_A,
        "game-state-b", GAME_STATE_B);
  }
}
