package dev.citadel.member.api;

import dev.citadel.member.account.Account;
import dev.citadel.member.account.Accounts;
import dev.citadel.member.account.Credentials;
import dev.citadel.member.account.MemberRejected;
import dev.citadel.member.identity.TokenIssuer;
import dev.citadel.member.login.LoginThrottle;
import dev.citadel.member.login.http.EdgeAddress;
import dev.citadel.member.presence.PresenceStore;
import dev.citadel.member.presence.PresenceView;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Sign-up, log-in (throttled), "who am I", rename, and the internal presence check for
 * match-service. The caller of {@code /api/members/me*} is the verified token's player; {@code
 * /internal/**} needs a service token with {@code presence.read} (see SecurityConfiguration).
 */
@RestController
public class MemberController {
  /** Sign-up and log-in body. */
  public record CredentialsRequest(String nickname, String password) {}

  public record SignedUp(String playerId, String nickname) {}

  public record LoggedIn(String token, String tokenType, Instant expiresAt, String playerId) {}

  public record Me(String playerId, String nickname, String status) {}

  public record RenameRequest(String nickname) {}

  static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  private static final java.util.regex.Pattern KEY =
      java.util.regex.Pattern.compile("[!-~]{1,128}");

  /** Counted against the throttle for log-ins whose nickname cannot exist. */
  static final String NO_SUCH_NICKNAME = "-";

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(MemberController.class);
  private final Accounts accounts;
  private final TokenIssuer tokens;
  private final PresenceStore presence;
  private final LoginThrottle throttle;
  private final EdgeAddress addresses;
  private final dev.citadel.member.login.AddressShares shares;
  private final Clock clock;

  public MemberController(
      Accounts accounts,
      TokenIssuer tokens,
      PresenceStore presence,
      LoginThrottle throttle,
      EdgeAddress addresses,
      dev.citadel.member.login.AddressShares shares,
      Clock clock) {
    this.shares = shares;
    this.accounts = accounts;
    this.tokens = tokens;
    this.presence = presence;
    this.throttle = throttle;
    this.addresses = addresses;
    this.clock = clock;
  }

  @io.swagger.v3.oas.annotations.security.SecurityRequirements
  @PostMapping("/api/members")
  @ResponseStatus(HttpStatus.CREATED)
  public Mono<SignedUp> signUp(
      @RequestBody CredentialsRequest body,
      @RequestHeader(value = IDEMPOTENCY_KEY, required = false) String key,
      ServerWebExchange exchange) {
    requireKeyShape(key);
    // With a key, a retry after a lost reply answers with the account the first try made.
    String playerId = key == null ? UUID.randomUUID().toString() : Accounts.playerIdFor(key);
    Mono<Account> signedUp =
        accounts.signUp(body.nickname(), body.password(), playerId, key != null, clock.instant());
    // A keyed repeat checks the password against the account its key made (201 or 409): a log-in
    // by another door, so it goes through the log-in throttle; without it anyone who knew a key
    // could guess the password at the gateway's request rate, never locked out.
    String nicknameKey = Credentials.canonical(body.nickname()).orElse(NO_SUCH_NICKNAME);
    return addresses
        .of(exchange)
        .flatMap(
            address ->
                // Within the address's share of bcrypt, as a log-in.
                shares.within(
                    address,
                    key == null
                        ? signedUp
                        : throttle.guard(
                            nicknameKey, address, clock, signedUp, MemberController::keyReused)))
        .map(a -> new SignedUp(a.playerId(), a.nickname()));
  }

  private static void requireKeyShape(String key) {
    if (key != null && !KEY.matcher(key).matches()) {
      throw new MemberRejected(
          MemberRejected.Kind.INVALID,
          IDEMPOTENCY_KEY + " must be 1-128 printable ASCII characters without spaces");
    }
  }

  /**
   * Log-in, throttled per nickname and address (see {@link LoginThrottle}). The address is the one
   * the gateway resolved, when the request carries the gateway's token ({@code edge.forward});
   * otherwise the socket's peer, whatever {@code X-Forwarded-For} says.
   */
  @io.swagger.v3.oas.annotations.security.SecurityRequirements
  @PostMapping("/api/members/login")
  public Mono<LoggedIn> logIn(@RequestBody CredentialsRequest body, ServerWebExchange exchange) {
    String key = Credentials.canonical(body.nickname()).orElse(NO_SUCH_NICKNAME);
    return addresses
        .of(exchange)
        .flatMap(
            address ->
                throttle
                    .guard(
                        key,
                        address,
                        clock,
                        // The address's share of bcrypt: a success is never throttled, so one
                        // player repeating a correct log-in filled the queue everyone shares. A
                        // refusal here is no verdict on the password: its count is taken back.
                        shares.within(address, accounts.logIn(body.nickname(), body.password())),
                        MemberController::wrongPassword)
                    .map(this::loggedIn));
  }

  /** A keyed sign-up's verdict on the password: its key's account has another one. */
  private static boolean keyReused(Throwable e) {
    return e instanceof MemberRejected r && r.kind() == MemberRejected.Kind.KEY_REUSED;
  }

  /** The one answer that is a verdict on the password; anything else (busy, store) is not. */
  private static boolean wrongPassword(Throwable e) {
    return e instanceof MemberRejected r && r.kind() == MemberRejected.Kind.UNAUTHORIZED;
  }

  private LoggedIn loggedIn(Account account) {
    TokenIssuer.Token t = tokens.player(account.playerId(), account.nickname(), clock.instant());
    return new LoggedIn(t.value(), "Bearer", t.expiresAt(), account.playerId());
  }

  /** The caller's own account. */
  @GetMapping("/api/members/me")
  public Mono<Me> me(AuthenticatedPlayer caller) {
    return accounts
        .find(caller.id())
        .zipWith(presence.view(caller.id()))
        .map(t -> new Me(t.getT1().playerId(), t.getT1().nickname(), t.getT2().status()))
        .switchIfEmpty(
            Mono.error(
                new MemberRejected(MemberRejected.Kind.NOT_FOUND, "no account " + caller.id())));
  }

  /** A new nickname for the caller, unique like at sign-up; game state follows from the event. */
  @PutMapping("/api/members/me/nickname")
  public Mono<Me> rename(
      @RequestBody RenameRequest body,
      @RequestHeader(value = IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    requireKeyShape(key);
    return accounts
        .rename(caller.id(), body.nickname(), key, clock.instant())
        .flatMap(this::throttleFollows)
        .zipWith(presence.view(caller.id()))
        .map(t -> new Me(t.getT1().playerId(), t.getT1().nickname(), t.getT2().status()));
  }

  /**
   * The log-in throttle's memory of the account's addresses follows it to its new nickname. Best
   * effort: the rename stands whatever happens here.
   */
  private Mono<Account> throttleFollows(Accounts.Renamed renamed) {
    Account account = renamed.account();
    String after = Credentials.canonical(account.nickname()).orElse("");
    String before = renamed.replacedKey().orElse("");
    if (before.isEmpty() || after.isEmpty()) {
      return Mono.just(account);
    }
    return throttle
        .renamed(before, after)
        .onErrorResume(
            e -> {
              log.warn("log-in throttle not moved to the new nickname: {}", e.toString());
              return Mono.empty();
            })
        .thenReturn(account);
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
