package dev.citadel.web.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceLaunch;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.infra.platform.ServiceSpec;
import dev.citadel.web.security.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;

/**
 * The identity side of a test: a REAL member-service process (its -exec jar, on the shared test
 * infrastructure) that signs with a key this class holds too. Tests mint player tokens with that
 * key for any player id (players a test creates straight in game-state have no account to log in
 * with); services under test fetch service tokens from member-service's real token endpoint with
 * the test clients' credentials ({@link #serviceEnv}).
 *
 * <p>One per test JVM, started on first use, stopped at exit.
 */
public final class TestIdentity {
  public static final String ISSUER = "citadel";

  /** The clients the test member-service knows, with their secrets. */
  public static final Map<String, String> CLIENT_SECRETS =
      Map.of(
          "game-state", "test-secret-game-state",
          "match-service", "test-secret-match-service",
          "game-server", "test-secret-game-server",
          "loadtest", "test-secret-loadtest",
          "gateway", "test-secret-gateway");

  private static TestIdentity shared;

  private final RSAKey key;
  private final NimbusJwtEncoder encoder;
  private final ServiceProcess member;

  private TestIdentity(RSAKey key, ServiceProcess member) {
    this.key = key;
    this.encoder = new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key)));
    this.member = member;
  }

  /** The JVM's test identity, with member-service started (once) and healthy. */
  public static synchronized TestIdentity shared() {
    if (shared == null) {
      RSAKey key = generateKey();
      ServiceProcess member = startMember("member-identity", "member_identity", pem(key), Map.of());
      shared = new TestIdentity(key, member);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> member.stop(Duration.ofSeconds(20)), "citadel-identity-stop"));
    }
    return shared;
  }

  /**
   * Starts a member-service process signing with {@code signingKeyPem}, knowing the test clients;
   * {@code extraEnv} adds or overrides (a next or previous key, say).
   */
  public static ServiceProcess startMember(
      String name, String database, String signingKeyPem, Map<String, String> extraEnv) {
    return startMember(name, database, signingKeyPem, extraEnv, FreePorts.next());
  }

  /** The same on a given port (a replica restarted where its callers expect it). */
  public static ServiceProcess startMember(
      String name, String database, String signingKeyPem, Map<String, String> extraEnv, int port) {
    ServiceProcess member = launchMember(name, database, signingKeyPem, extraEnv, port);
    try {
      member.awaitHealthy(Duration.ofSeconds(180));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return member;
  }

  /** Starts member-service without waiting for it (several at once); await it on the process. */
  public static ServiceProcess launchMember(
      String name, String database, String signingKeyPem, Map<String, String> extraEnv, int port) {
    Map<String, String> env =
        new HashMap<>(
            Infrastructure.environment(
                SharedInfra.postgres(), SharedInfra.redis(), SharedInfra.kafka()));
    env.put(InfraSettings.POSTGRES_URL, SharedInfra.postgresDatabase(database).url());
    env.putAll(memberEnv(signingKeyPem));
    env.putAll(extraEnv);
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    try {
      return ServiceProcess.start(
          new ServiceSpec(name, "member-service", port, database),
          ServiceLaunch.jarOf(root, "member-service")
              .orElseThrow(
                  () -> new IllegalStateException("member-service is not built (mvn package)")),
          env,
          Files.createDirectories(Path.of("target", "service-logs")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** member-service's environment: the key, the test clients, cheap bcrypt. */
  public static Map<String, String> memberEnv(String signingKeyPem) {
    Map<String, String> env = new HashMap<>();
    env.put("CITADEL_JWT_SIGNING_KEY", signingKeyPem);
    env.put("CITADEL_MEMBERS_BCRYPTSTRENGTH", "4");
    CLIENT_SECRETS.forEach(
        (client, secret) ->
            env.put("CITADEL_CLIENT_SECRET_" + client.toUpperCase().replace('-', '_'), secret));
    return env;
  }

  /** What a service process needs to verify tokens and to get its own as {@code clientId}. */
  public Map<String, String> serviceEnv(String clientId) {
    return Map.of(
        "CITADEL_MEMBER_URL", memberUrl().toString(),
        "CITADEL_SERVICE_CLIENT_ID", clientId,
        "CITADEL_SERVICE_CLIENT_SECRET", CLIENT_SECRETS.get(clientId));
  }

  /** The same as Spring properties, for a service started in the test's own JVM. */
  public Map<String, String> serviceProperties(String clientId) {
    return Map.of(
        "citadel.security.jwks-uri", jwksUri().toString(),
        "citadel.security.client.token-uri", tokenUri().toString(),
        "citadel.security.client.id", clientId,
        "citadel.security.client.secret", CLIENT_SECRETS.get(clientId));
  }

  public URI memberUrl() {
    return member.url();
  }

  public URI jwksUri() {
    return member.url().resolve("/.well-known/jwks.json");
  }

  public URI tokenUri() {
    return member.url().resolve("/oauth2/token");
  }

  /** The PEM of the key member-service signs with (for another process that must share it). */
  public String signingKeyPem() {
    return pem(key);
  }

  /** A player token for any player id, valid for an hour. */
  public String player(String playerId) {
    return player(playerId, Instant.now(), Duration.ofHours(1));
  }

  public String player(String playerId, Instant issuedAt, Duration ttl) {
    return sign(
        Tokens.player(ISSUER, playerId, "p" + Math.abs(playerId.hashCode()), issuedAt, ttl));
  }

  /** A service token as member-service would issue it to {@code clientId}. */
  public String service(String clientId, String audience, String... scopes) {
    return sign(
        Tokens.service(
            ISSUER, clientId, audience, List.of(scopes), Instant.now(), Duration.ofMinutes(5)));
  }

  /** Any claims, signed with the platform's key (for tokens that must be refused). */
  public String sign(JwtClaimsSet claims) {
    JwsHeader header =
        JwsHeader.with(SignatureAlgorithm.RS256).keyId(key.getKeyID()).type("JWT").build();
    return encoder.encode(JwtEncoderParameters.from(header, claims)).getTokenValue();
  }

  public RSAKey key() {
    return key;
  }

  /** A fresh RSA key, its id its thumbprint (as member-service computes it). */
  public static RSAKey generateKey() {
    try {
      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048);
      KeyPair pair = rsa.generateKeyPair();
      return new RSAKey.Builder((RSAPublicKey) pair.getPublic())
          .privateKey(pair.getPrivate())
          .keyUse(KeyUse.SIGNATURE)
          .keyIDFromThumbprint()
          .build();
    } catch (GeneralSecurityException | JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** PKCS#8 PEM of a key's private part. */
  public static String pem(RSAKey key) {
    try {
      return "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder().encodeToString(key.toPrivateKey().getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }
}
