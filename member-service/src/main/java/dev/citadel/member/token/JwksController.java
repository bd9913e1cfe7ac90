package dev.citadel.member.token;

import com.nimbusds.jose.jwk.JWKSet;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The public signing keys, so others verify tokens without sharing a secret. */
@RestController
public class JwksController {
  private final JWKSet keys;

  public JwksController(JWKSet keys) {
    this.keys = keys;
  }

  @GetMapping("/.well-known/jwks.json")
  public Map<String, Object> jwks() {
    return keys.toJSONObject(true); // public keys only
  }
}
