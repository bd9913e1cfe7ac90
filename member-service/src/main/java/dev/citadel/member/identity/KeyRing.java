package dev.citadel.member.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The signing keys: the current one signs; the next one (before a rotation) and the previous one
 * (after it, until the tokens it signed expire) are only published. Every replica of member-service
 * is given the same keys, so any of them issues tokens any verifier accepts. A key's id is its RFC
 * 7638 thumbprint: the same key has the same id everywhere, without configuring one.
 */
public final class KeyRing {
  private final RSAKey signing;
  private final JWKSet published;

  public KeyRing(RSAKey signing, Optional<RSAKey> next, Optional<RSAKey> previous) {
    this.signing = signing;
    List<JWK> keys = new ArrayList<>();
    keys.add(signing);
    next.ifPresent(keys::add);
    previous.ifPresent(keys::add);
    this.published = new JWKSet(keys);
  }

  /** Signs tokens. */
  public RSAKey signing() {
    return signing;
  }

  /** Every key a token may be verified with (private parts included: keep it in the process). */
  public JWKSet keys() {
    return published;
  }

  /** The public keys, for {@code /.well-known/jwks.json}. */
  public JWKSet publicKeys() {
    return published.toPublicJWKSet();
  }

  /** An RSA key from a PKCS#8 PEM. */
  public static RSAKey fromPem(String pem) {
    String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    try {
      KeyFactory rsa = KeyFactory.getInstance("RSA");
      RSAPrivateCrtKey priv =
          (RSAPrivateCrtKey)
              rsa.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
      RSAPublicKey pub =
          (RSAPublicKey)
              rsa.generatePublic(new RSAPublicKeySpec(priv.getModulus(), priv.getPublicExponent()));
      return withThumbprint(new RSAKey.Builder(pub).privateKey(priv));
    } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
      throw new IllegalArgumentException("not an RSA private key in PKCS#8 PEM", e);
    }
  }

  /** A new 2048-bit key (a process of its own, or a test). */
  public static RSAKey generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      var pair = generator.generateKeyPair();
      return withThumbprint(
          new RSAKey.Builder((RSAPublicKey) pair.getPublic()).privateKey(pair.getPrivate()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an RSA key", e);
    }
  }

  private static RSAKey withThumbprint(RSAKey.Builder builder) {
    try {
      return builder.keyUse(KeyUse.SIGNATURE).keyIDFromThumbprint().build();
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot compute the key's thumbprint", e);
    }
  }
}
