package dev.citadel.member.identity;

import java.util.Map;
import org.springframework.http.CacheControl;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The public keys (current, next, previous), so every service verifies tokens without a shared
 * secret. Also served through the gateway, for clients and game servers.
 */
@RestController
public class JwksController {
  private final KeyRing keys;

  public JwksController(KeyRing keys) {
    this.keys = keys;
  }

  @io.swagger.v3.oas.annotations.security.SecurityRequirements
  @GetMapping("/.well-known/jwks.json")
  public ResponseEntity<Map<String, Object>> jwks() {
    return ResponseEntity.ok()
        .cacheControl(CacheControl.maxAge(java.time.Duration.ofMinutes(5)).cachePublic())
        .body(keys.publicKeys().toJSONObject(true));
  }
}
