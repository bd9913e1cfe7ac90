package dev.citadel.infra.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local platform's secrets: member-service's signing key, kept in the data directory so that
 * tokens survive a restart of the platform, and one client secret per registered client, new for
 * every run.
 */
final class Credentials {
  /** The clients the local platform registers at member-service (see its application.yml). */
  static final List<String> CLIENTS =
      List.of("match-service", "game-state", "game-server", "loadtest", "gateway");

  private final String signingKeyPem;
  private final Map<String, String> secrets;

  private Credentials(String signingKeyPem, Map<String, String> secrets) {
    this.signingKeyPem = signingKeyPem;
    this.secrets = Map.copyOf(secrets);
  }

  /** The key from {@code dataDir/keys/jwt-signing.pem} (made there on first use), new secrets. */
  static Credentials in(Path dataDir) {
    Path key = dataDir.resolve("keys").resolve("jwt-signing.pem");
    try {
      if (!Files.exists(key)) {
        Files.createDirectories(key.getParent());
        Files.writeString(key, newKeyPem(), StandardCharsets.US_ASCII);
        try {
          Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
          // the file system has no permissions to set
        }
      }
      Map<String, String> secrets = new LinkedHashMap<>();
      SecureRandom random = new SecureRandom();
      for (String client : CLIENTS) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        secrets.put(client, Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
      }
      return new Credentials(Files.readString(key, StandardCharsets.US_ASCII), secrets);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the signing key in " + key, e);
    }
  }

  String secret(String client) {
    return secrets.get(client);
  }

  /** member-service's environment: the key and every client's secret. */
  Map<String, String> memberEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("CITADEL_JWT_SIGNING_KEY", signingKeyPem);
    secrets.forEach(
        (client, secret) ->
            env.put("CITADEL_CLIENT_SECRET_" + client.toUpperCase().replace('-', '_'), secret));
    return env;
  }

  /** A service's own credentials, to get service tokens as {@code client}. */
  Map<String, String> clientEnv(String client) {
    return Map.of(
        "CITADEL_SERVICE_CLIENT_ID", client, "CITADEL_SERVICE_CLIENT_SECRET", secrets.get(client));
  }

  private static String newKeyPem() {
    try {
      KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
      rsa.initialize(2048);
      return "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(rsa.generateKeyPair().getPrivate().getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an RSA key", e);
    }
  }
}
