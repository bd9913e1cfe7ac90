package dev.citadel.member.api;

import dev.citadel.member.account.Accounts;
import dev.citadel.member.account.MemberRejected;
import dev.citadel.member.presence.PresenceStore;
import dev.citadel.member.presence.PresenceView;
import dev.citadel.member.token.TokenIssuer;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** Sign-up, log-in, "who am I", and the internal presence check for match-service. */
@RestController
public class MemberController {
  public static final String PLAYER_HEADER = "X-Player-Id";

  /** Sign-up and log-in body. */
  public record CredentialsRequest(String nickname, String password) {}

  public record SignedUp(String playerId, String nickname) {}

  public record LoggedIn(String token, String tokenType, Instant expiresAt, String playerId) {}

  public record Me(String playerId, String nickname, String status) {}

  private final Accounts accounts;
  private final TokenIssuer tokens;
  private final PresenceStore presence;
  private final Clock clock;

  public MemberController(
      Accounts accounts, TokenIssuer tokens, PresenceStore presence, Clock clock) {
    this.accounts = accounts;
    this.tokens = tokens;
    this.presence = presence;
    this.clock = clock;
  }

  @PostMapping("/api/members")
  @ResponseStatus(HttpStatus.CREATED)
  public Mono<SignedUp> signUp(@RequestBody CredentialsRequest body) {
    return accounts
        .signUp(body.nickname(), body.password(), UUID.randomUUID().toString(), clock.instant())
        .map(a -> new SignedUp(a.playerId(), a.nickname()));
  }

  @PostMapping("/api/members/login")
  public Mono<LoggedIn> logIn(@RequestBody CredentialsRequest body) {
    return accounts
        .logIn(body.nickname(), body.password())
        .map(
            account -> {
              TokenIssuer.Token t = tokens.issue(account, clock.instant());
              return new LoggedIn(t.value(), "Bearer", t.expiresAt(), account.playerId());
            });
  }

  /** The caller's own account; the gateway sets the header from the verified token. */
  @GetMapping("/api/members/me")
  public Mono<Me> me(@RequestHeader(name = PLAYER_HEADER, required = false) String caller) {
    if (caller == null || caller.isBlank()) {
      return Mono.error(new MemberRejected(MemberRejected.Kind.UNAUTHORIZED, "not logged in"));
    }
    return accounts
        .find(caller)
        .zipWith(presence.view(caller))
        .map(t -> new Me(t.getT1().playerId(), t.getT1().nickname(), t.getT2().status()))
        .switchIfEmpty(
            Mono.error(new MemberRejected(MemberRejected.Kind.NOT_FOUND, "no account " + caller)));
  }

  /** May this player join a queue now? For match-service; never routed by the gateway. */
  @GetMapping("/internal/members/{playerId}/presence")
  public Mono<PresenceView> presence(@PathVariable String playerId) {
    return presence
        .view(playerId)
        .switchIfEmpty(
            Mono.error(
                new MemberRejected(MemberRejected.Kind.NOT_FOUND, "no account " + playerId)));
  }
}
