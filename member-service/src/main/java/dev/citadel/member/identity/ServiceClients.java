package dev.citadel.member.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The registered clients (services and game servers) and what each may ask for: per audience (the
 * one service a token is for), a set of scopes. Pure: deciding a token request needs no I/O.
 */
public final class ServiceClients {

  /** How a client is configured: its secret and, per audience, space-separated scopes. */
  public record Registration(String secret, Map<String, String> grants) {}

  /** One client: its secret's digest and its grants. */
  public record Client(String id, byte[] secretDigest, Map<String, Set<String>> grants) {}

  /** What a token request is granted, or why not (an OAuth 2.0 error code and a description). */
  public sealed interface Decision {
    record Granted(String clientId, String audience, Set<String> scopes) implements Decision {}

    record Refused(String error, String description) implements Decision {}
  }

  private final Map<String, Client> clients;

  public ServiceClients(Map<String, Client> clients) {
    this.clients = Map.copyOf(clients);
  }

  /** The registered clients; one without a secret is left out (disabled). */
  public static ServiceClients of(Map<String, Registration> registrations) {
    Map<String, Client> clients = new LinkedHashMap<>();
    registrations.forEach(
        (id, reg) -> {
          if (reg.secret() == null || reg.secret().isBlank()) {
            return;
          }
          Map<String, Set<String>> grants = new LinkedHashMap<>();
          reg.grants().forEach((audience, scopes) -> grants.put(audience, scopes(scopes)));
          clients.put(id, new Client(id, digest(reg.secret()), Map.copyOf(grants)));
        });
    return new ServiceClients(clients);
  }

  public Set<String> ids() {
    return clients.keySet();
  }

  /**
   * Decides a client-credentials request.
   *
   * @param audience the service the token is for; may be omitted when the client has one only
   * @param scope space-separated; omitted means every scope granted at that audience
   */
  public Decision decide(String clientId, String secret, String audience, String scope) {
    Client client = clientId == null ? null : clients.get(clientId);
    // Compare a digest even for an unknown client: the answer takes as long either way.
    boolean secretOk =
        MessageDigest.isEqual(
            client == null ? new byte[32] : client.secretDigest(),
            digest(secret == null ? "" : secret));
    if (client == null || !secretOk) {
      return new Decision.Refused("invalid_client", "unknown client or wrong secret");
    }
    String target = audience;
    if (target == null || target.isBlank()) {
      if (client.grants().size() != 1) {
        return new Decision.Refused(
            "invalid_request", "'audience' is required: the service the token is for");
      }
      target = client.grants().keySet().iterator().next();
    }
    Set<String> granted = client.grants().get(target);
    if (granted == null) {
      return new Decision.Refused(
          "invalid_target", "client " + clientId + " may not call " + target);
    }
    Set<String> asked = scope == null || scope.isBlank() ? granted : scopes(scope);
    if (!granted.containsAll(asked)) {
      return new Decision.Refused(
          "invalid_scope", "client " + clientId + " may ask for " + granted + " at " + target);
    }
    return new Decision.Granted(clientId, target, asked);
  }

  private static Set<String> scopes(String spaceSeparated) {
    return new LinkedHashSet<>(
        Arrays.stream(spaceSeparated.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList());
  }

  static byte[] digest(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> sorted(Set<String> scopes) {
    return scopes.stream().sorted().toList();
  }
}
