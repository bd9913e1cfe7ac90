package dev.citadel.loadtest.bulk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/**
 * The load test's service token (client {@code loadtest}) from member-service's token endpoint,
 * fetched again a minute before it expires: the bulk route is internal, like any game server's.
 */
public final class ServiceToken {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI tokenUri;
  private final String client;
  private final String secret;
  private final String audience;
  private final Clock clock;
  private String token;
  private Instant renewAt = Instant.MIN;

  public ServiceToken(
      String memberUrl, String client, String secret, String audience, Clock clock) {
    this.tokenUri = URI.create(memberUrl + "/oauth2/token");
    this.client = client;
    this.secret = secret;
    this.audience = audience;
    this.clock = clock;
  }

  public synchronized String get() throws IOException, InterruptedException {
    if (token == null || !clock.instant().isBefore(renewAt)) {
      String basic =
          Base64.getEncoder()
              .encodeToString((client + ":" + secret).getBytes(StandardCharsets.UTF_8));
      HttpRequest request =
          HttpRequest.newBuilder(tokenUri)
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", "Basic " + basic)
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      "grant_type=client_credentials&audience="
                          + URLEncoder.encode(audience, StandardCharsets.UTF_8)))
              .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "no service token for "
                + client
                + ": "
                + response.statusCode()
                + " "
                + response.body());
      }
      JsonNode body = JSON.readTree(response.body());
      token = body.path("access_token").asText();
      renewAt = clock.instant().plusSeconds(Math.max(0, body.path("expires_in").asLong() - 60));
    }
    return token;
  }
}
