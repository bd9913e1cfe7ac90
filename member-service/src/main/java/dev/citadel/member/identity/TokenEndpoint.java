package dev.citadel.member.identity;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * {@code POST /oauth2/token}: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for services
 * and game servers. The client authenticates with HTTP Basic (or {@code client_id} and {@code
 * client_secret} in the form), names the service the token is for ({@code audience}, RFC 8707's
 * resource indicator by another name) and optionally the scopes; the answer is a short-lived
 * service token. Errors are RFC 6749 §5.2 JSON.
 */
@RestController
public class TokenEndpoint {
  private final ServiceClients clients;
  private final TokenIssuer issuer;
  private final Clock clock;

  public TokenEndpoint(ServiceClients clients, TokenIssuer issuer, Clock clock) {
    this.clients = clients;
    this.issuer = issuer;
    this.clock = clock;
  }

  @PostMapping(
      path = "/oauth2/token",
      consumes = MediaType.APPLICATION_FORM_URLENCODED_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Mono<ResponseEntity<Map<String, Object>>> token(ServerWebExchange exchange) {
    String basic = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
    return exchange.getFormData().map(form -> answer(basic, form));
  }

  private ResponseEntity<Map<String, Object>> answer(
      String authorization, MultiValueMap<String, String> form) {
    if (!"client_credentials".equals(form.getFirst("grant_type"))) {
      return error(
          HttpStatus.BAD_REQUEST, "unsupported_grant_type", "only client_credentials is served");
    }
    String[] credentials = basic(authorization);
    String id = credentials != null ? credentials[0] : form.getFirst("client_id");
    String secret = credentials != null ? credentials[1] : form.getFirst("client_secret");
    ServiceClients.Decision decision =
        clients.decide(id, secret, form.getFirst("audience"), form.getFirst("scope"));
    if (decision instanceof ServiceClients.Decision.Refused r) {
      return error(
          "invalid_client".equals(r.error()) ? HttpStatus.UNAUTHORIZED : HttpStatus.BAD_REQUEST,
          r.error(),
          r.description());
    }
    ServiceClients.Decision.Granted g = (ServiceClients.Decision.Granted) decision;
    TokenIssuer.Token token =
        issuer.service(
            g.clientId(), g.audience(), ServiceClients.sorted(g.scopes()), clock.instant());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", token.value());
    body.put("token_type", "Bearer");
    body.put("expires_in", issuer.serviceTtl().toSeconds());
    body.put("scope", String.join(" ", ServiceClients.sorted(g.scopes())));
    body.put("audience", g.audience());
    return ResponseEntity.ok().header(HttpHeaders.CACHE_CONTROL, "no-store").body(body);
  }

  /** {@code [id, secret]} from {@code Authorization: Basic ...}, or null. */
  static String[] basic(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    try {
      String decoded =
          new String(
              Base64.getDecoder().decode(authorization.substring(6).trim()),
              StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      return colon < 0
          ? null
          : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static ResponseEntity<Map<String, Object>> error(
      HttpStatus status, String error, String description) {
    ResponseEntity.BodyBuilder response =
        ResponseEntity.status(status).header(HttpHeaders.CACHE_CONTROL, "no-store");
    if (status == HttpStatus.UNAUTHORIZED) {
      response.header(HttpHeaders.WWW_AUTHENTICATE, "Basic realm=\"citadel\"");
    }
    return response.body(Map.of("error", error, "error_description", description));
  }
}
