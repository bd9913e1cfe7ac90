package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import dev.citadel.web.testing.TestIdentity;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TokenDecodersTest {

  @Test
  void a_verifier_fetches_the_keys_when_it_is_made_not_when_the_first_token_comes()
      throws Exception {
    byte[] jwks =
        new JWKSet(TestIdentity.generateKey().toPublicJWK())
            .toString()
            .getBytes(StandardCharsets.UTF_8);
    CountDownLatch fetched = new CountDownLatch(1);
    HttpServer member =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    member.createContext(
        "/.well-known/jwks.json",
        exchange -> {
          exchange.sendResponseHeaders(200, jwks.length);
          exchange.getResponseBody().write(jwks);
          exchange.close();
          fetched.countDown();
        });
    member.start();
    try {
      TokenDecoders.remote(
          URI.create(
              "http://127.0.0.1:" + member.getAddress().getPort() + "/.well-known/jwks.json"),
          TokenValidators.of(TestIdentity.ISSUER, "svc", Clock.systemUTC()),
          Clock.systemUTC(),
          Duration.ofMinutes(5));

      assertThat(fetched.await(10, TimeUnit.SECONDS)).as("fetched with no token asked").isTrue();
    } finally {
      member.stop(0);
    }
  }
}
