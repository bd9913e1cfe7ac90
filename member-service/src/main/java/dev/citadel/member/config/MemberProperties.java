package dev.citadel.member.config;

import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/** Settings of member-service; see application.yml for the defaults. */
@ConfigurationProperties("citadel")
public record MemberProperties(
    String instanceId,
    dev.citadel.eventstore.PostgresSettings postgres,
    dev.citadel.messaging.kafka.KafkaConnection kafka,
    Jwt jwt,
    Members members,
    Login login,
    @DefaultValue Identity identity) {

  /**
   * The signing keys (PKCS#8 PEM of RSA keys, the same on every replica).
   *
   * @param signingKey signs every new token
   * @param nextKey published before it signs, so verifiers know it when it does
   * @param previousKey still published after a rotation, until tokens it signed expire
   * @param generateIfMissing without a signing key, make one for this process (tests only: the
   *     local platform passes a key it keeps; anywhere else a missing key stops start-up)
   */
  public record Jwt(
      String issuer,
      Duration ttl,
      String signingKey,
      String nextKey,
      String previousKey,
      boolean generateIfMissing) {}

  /**
   * @param bcryptQueue sign-ups and log-ins that may wait for each bcrypt thread (Reactor's bounded
   *     elastic scheduler bounds its queue per thread, and there are as many threads as cores);
   *     more are refused at once (503 with Retry-After)
   */
  public record Members(
      String outboxTopic, String presenceTopic, int bcryptStrength, int bcryptQueue) {}

  /**
   * Log-in throttling (see LoginThrottle): failures allowed per nickname from one address, per
   * nickname, per address; past them every failure locks for {@code backoff} doubled each time, at
   * most {@code maxBackoff}. {@code bcryptPerAddress}: sign-ups and log-ins one address may have
   * running or waiting for bcrypt at once on a replica (more: 503 at once).
   */
  public record Login(
      int perNicknameAndAddress,
      int perNickname,
      int perAddress,
      Duration backoff,
      Duration maxBackoff,
      @DefaultValue("16") int bcryptPerAddress) {}

  /**
   * Service clients (services and game servers) and their tokens.
   *
   * @param clients client id -> its secret and, per audience, the space-separated scopes it may ask
   *     for there; a client without a secret is disabled
   */
  public record Identity(
      @DefaultValue("5m") Duration serviceTokenTtl, @DefaultValue Map<String, Client> clients) {}

  public record Client(@DefaultValue("") String secret, @DefaultValue Map<String, String> grants) {}
}
