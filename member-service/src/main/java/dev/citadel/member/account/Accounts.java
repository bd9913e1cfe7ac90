package dev.citadel.member.account;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStore;
import dev.citadel.protocol.member.v1.AccountRegistered;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Sign-up and log-in.
 *
 * <p>Sign-up writes the account row and an {@code AccountRegistered} event to the journal in ONE
 * transaction; the outbox then publishes it and game-state creates the player from it. So an
 * account never exists without its player-creating event, even across a crash (docs/accounts.md).
 */
public final class Accounts {
  public static final String AGGREGATE_TYPE = "account";

  private static final String INSERT_SQL =
      "INSERT INTO accounts (player_id, nickname, password_hash, created_at) VALUES ($1, $2, $3, $4)";
  private static final String BY_NICKNAME_SQL =
      "SELECT player_id, nickname, password_hash, created_at FROM accounts"
          + " WHERE lower(nickname) = lower($1)";
  private static final String BY_ID_SQL =
      "SELECT player_id, nickname, password_hash, created_at FROM accounts WHERE player_id = $1";

  private record Row(Account account, String passwordHash) {}

  private final DatabaseClient db;
  private final TransactionalOperator tx;
  private final EventStore journal;
  private final PasswordEncoder passwords;

  public Accounts(
      DatabaseClient db, TransactionalOperator tx, EventStore journal, PasswordEncoder passwords) {
    this.db = db;
    this.tx = tx;
    this.journal = journal;
    this.passwords = passwords;
  }

  /** Registers a player. The id and time come from the caller (the edge). */
  public Mono<Account> signUp(String nickname, String password, String playerId, Instant now) {
    String nick = Credentials.nickname(nickname);
    String pass = Credentials.password(password);
    Account account = new Account(playerId, nick, now);
    EventData registered =
        new EventData(
            AccountRegistered.getDescriptor().getFullName(),
            AccountRegistered.newBuilder()
                .setPlayerId(playerId)
                .setNickname(nick)
                .setRegisteredAtEpochMs(now.toEpochMilli())
                .build()
                .toByteArray());
    return hash(pass)
        .flatMap(
            hash ->
                db.sql(INSERT_SQL)
                    .bind(0, playerId)
                    .bind(1, nick)
                    .bind(2, hash)
                    .bind(3, OffsetDateTime.ofInstant(now, ZoneOffset.UTC))
                    .then()
                    .then(
                        journal.appendAtomically(
                            List.of(
                                new AppendRequest(
                                    AGGREGATE_TYPE, playerId, 0, List.of(registered), now))))
                    .as(tx::transactional))
        .onErrorMap(
            DuplicateKeyException.class,
            e ->
                new MemberRejected(
                    MemberRejected.Kind.CONFLICT, "nickname '" + nick + "' is taken"))
        .thenReturn(account);
  }

  /** Checks the password; the same answer for an unknown nickname and a wrong password. */
  public Mono<Account> logIn(String nickname, String password) {
    MemberRejected wrong =
        new MemberRejected(MemberRejected.Kind.UNAUTHORIZED, "wrong nickname or password");
    if (nickname == null || password == null) {
      return Mono.error(wrong);
    }
    return db.sql(BY_NICKNAME_SQL)
        .bind(0, nickname)
        .map(Accounts::row)
        .one()
        .switchIfEmpty(Mono.error(wrong))
        .flatMap(
            row ->
                matches(password, row.passwordHash())
                    .flatMap(ok -> ok ? Mono.just(row.account()) : Mono.error(wrong)));
  }

  public Mono<Account> find(String playerId) {
    return db.sql(BY_ID_SQL).bind(0, playerId).map(Accounts::row).one().map(Row::account);
  }

  // bcrypt is deliberately slow (~50-100 ms): never on the event loop.
  private Mono<String> hash(String password) {
    return Mono.fromCallable(() -> passwords.encode(password))
        .subscribeOn(Schedulers.boundedElastic());
  }

  private Mono<Boolean> matches(String password, String hash) {
    return Mono.fromCallable(() -> passwords.matches(password, hash))
        .subscribeOn(Schedulers.boundedElastic());
  }

  private static Row row(io.r2dbc.spi.Readable r) {
    return new Row(
        new Account(
            r.get("player_id", String.class),
            r.get("nickname", String.class),
            r.get("created_at", OffsetDateTime.class).toInstant()),
        r.get("password_hash", String.class));
  }
}
