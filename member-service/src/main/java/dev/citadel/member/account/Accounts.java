package dev.citadel.member.account;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.protocol.member.v1.AccountRegistered;
import dev.citadel.protocol.member.v1.NicknameChanged;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Sign-up, log-in and rename.
 *
 * <p>Sign-up writes the account row and an {@code AccountRegistered} event to the journal in ONE
 * transaction; the outbox then publishes it and game-state creates the player from it. So an
 * account never exists without its player-creating event, even across a crash (docs/accounts.md). A
 * rename does the same with {@code NicknameChanged}.
 */
public final class Accounts {
  public static final String AGGREGATE_TYPE = "account";

  private static final String INSERT_SQL =
      "INSERT INTO accounts (player_id, nickname, nickname_key, password_hash, created_at)"
          + " VALUES ($1, $2, $3, $4, $5)";
  private static final String BY_NICKNAME_SQL =
      "SELECT player_id, nickname, password_hash, created_at FROM accounts WHERE nickname_key = $1";
  private static final String BY_ID_SQL =
      "SELECT player_id, nickname, password_hash, created_at FROM accounts WHERE player_id = $1";
  private static final String NICKNAME_HOLDER_SQL =
      "SELECT player_id FROM accounts WHERE nickname_key = $1";

  /**
   * The row locked first, so the nickname it replaces is the one this rename moves from (read
   * before the transaction, a rename committed meanwhile by another device was missed).
   */
  private static final String RENAME_SQL =
      "UPDATE accounts a SET nickname = $2, nickname_key = $3"
          + " FROM (SELECT player_id, nickname_key FROM accounts WHERE player_id = $1 FOR UPDATE) b"
          + " WHERE a.player_id = b.player_id RETURNING b.nickname_key";

  /**
   * A rename's answer: the account, and the nickname (as compared) it replaced; empty for a repeat
   * of a keyed rename, which changed nothing.
   */
  public record Renamed(Account account, java.util.Optional<String> replacedKey) {}

  private record Row(Account account, String passwordHash) {}

  private final DatabaseClient db;
  private final TransactionalOperator tx;
  private final EventStore journal;
  private final PasswordEncoder passwords;
  private final Scheduler hashing;
  private final int maxSignUpsHashing;
  private final java.util.concurrent.atomic.AtomicInteger signUpsHashing =
      new java.util.concurrent.atomic.AtomicInteger();
  private final String decoyHash;

  /**
   * @param hashing where bcrypt runs: a few threads of its own (as many as cores), so that a burst
   *     of sign-ups and log-ins queues there instead of starving every event loop on the machine
   */
  public Accounts(
      DatabaseClient db,
      TransactionalOperator tx,
      EventStore journal,
      PasswordEncoder passwords,
      Scheduler hashing) {
    this(db, tx, journal, passwords, hashing, Integer.MAX_VALUE);
  }

  /**
   * @param maxSignUpsHashing how many sign-ups may be hashing or waiting for bcrypt at once: a
   *     share of its queue, so that a flood of sign-ups (each one a new account) can never take
   *     every place from log-ins
   */
  public Accounts(
      DatabaseClient db,
      TransactionalOperator tx,
      EventStore journal,
      PasswordEncoder passwords,
      Scheduler hashing,
      int maxSignUpsHashing) {
    this.db = db;
    this.tx = tx;
    this.journal = journal;
    this.passwords = passwords;
    this.hashing = hashing;
    this.maxSignUpsHashing = maxSignUpsHashing;
    // Checked against when the nickname matches no account: the same bcrypt work as a wrong
    // password, so the answer's timing does not tell which nicknames exist.
    this.decoyHash = passwords.encode(UUID.randomUUID().toString());
  }

  /**
   * The player id of a sign-up sent with this Idempotency-Key: the same key, the same id, so a
   * repeat finds the account its first try made instead of making a second or answering 409.
   */
  public static String playerIdFor(String idempotencyKey) {
    return UUID.nameUUIDFromBytes(
            ("sign-up:" + idempotencyKey).getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .toString();
  }

  /** Registers a player with a fresh id. The id and time come from the caller (the edge). */
  public Mono<Account> signUp(String nickname, String password, String playerId, Instant now) {
    return signUp(nickname, password, playerId, false, now);
  }

  /**
   * Registers a player. With {@code keyed} (the id is {@link #playerIdFor} the caller's key), an
   * account that already has this id is the answer when it is the same sign-up (same nickname, the
   * password matches): a retry after a lost reply. Another sign-up with the key is 409.
   */
  public Mono<Account> signUp(
      String nickname, String password, String playerId, boolean keyed, Instant now) {
    String nick = Credentials.nickname(nickname);
    String key = Credentials.canonical(nick).orElseThrow();
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
    // A nickname already taken is refused before any bcrypt work (a flood of sign-ups for taken
    // nicknames hashed a password each and filled the queue log-ins need); the unique index still
    // decides a race between two sign-ups for a free one.
    Mono<Account> created =
        hash(pass) // deferred inside: nothing is counted or queued until subscribed
            .flatMap(
                hash ->
                    db.sql(INSERT_SQL)
                        .bind(0, playerId)
                        .bind(1, nick)
                        .bind(2, key)
                        .bind(3, hash)
                        .bind(4, OffsetDateTime.ofInstant(now, ZoneOffset.UTC))
                        .then()
                        .then(
                            journal.appendAtomically(
                                List.of(
                                    new AppendRequest(
                                        AGGREGATE_TYPE, playerId, 0, List.of(registered), now))))
                        .as(tx::transactional))
            .thenReturn(account)
            .onErrorResume(
                DuplicateKeyException.class,
                e -> keyed ? repeatOf(playerId, key, pass, nick) : Mono.error(taken(nick)));
    return db.sql(NICKNAME_HOLDER_SQL)
        .bind(0, key)
        .map(row -> row.get("player_id", String.class))
        .one()
        .flatMap(
            holder ->
                keyed && holder.equals(playerId)
                    ? repeatOf(playerId, key, pass, nick)
                    : Mono.<Account>error(taken(nick)))
        .switchIfEmpty(created);
  }

  /** The account a keyed sign-up's earlier try made, or why there is none to answer with. */
  private Mono<Account> repeatOf(
      String playerId, String nicknameKey, String password, String nick) {
    return db.sql(BY_ID_SQL)
        .bind(0, playerId)
        .map(Accounts::row)
        .one()
        .flatMap(
            row ->
                nicknameKey.equals(Credentials.canonical(row.account().nickname()).orElse(null))
                    ? asSignUp(matches(password, row.passwordHash()))
                        .flatMap(same -> same ? Mono.just(row.account()) : Mono.error(keyReused()))
                    : Mono.error(keyReused()))
        // No account with this id: it was the nickname that is taken.
        .switchIfEmpty(Mono.error(() -> taken(nick)));
  }

  private static MemberRejected keyReused() {
    return new MemberRejected(
        MemberRejected.Kind.KEY_REUSED,
        "this Idempotency-Key was used for another sign-up; use a new key for a new account");
  }

  /**
   * Checks the password; the same answer, after the same bcrypt work, for an unknown nickname, an
   * invalid one and a wrong password.
   */
  public Mono<Account> logIn(String nickname, String password) {
    MemberRejected wrong =
        new MemberRejected(MemberRejected.Kind.UNAUTHORIZED, "wrong nickname or password");
    String pass = password == null ? "" : password;
    return Mono.justOrEmpty(Credentials.canonical(nickname))
        .flatMap(key -> db.sql(BY_NICKNAME_SQL).bind(0, key).map(Accounts::row).one())
        .defaultIfEmpty(new Row(null, decoyHash))
        .flatMap(
            row ->
                matches(pass, row.passwordHash())
                    .flatMap(
                        ok ->
                            ok && row.account() != null
                                ? Mono.just(row.account())
                                : Mono.error(wrong)));
  }

  public Mono<Account> find(String playerId) {
    return db.sql(BY_ID_SQL).bind(0, playerId).map(Accounts::row).one().map(Row::account);
  }

  /**
   * A new nickname, unique by the same canonical form as at sign-up; the account row and a {@code
   * NicknameChanged} event in one transaction. Renaming to one's own nickname in another letter
   * case is allowed.
   */
  public Mono<Account> rename(String playerId, String nickname, Instant now) {
    return rename(playerId, nickname, null, now).map(Renamed::account);
  }

  /**
   * A rename; with the caller's {@code clientKey} (an {@code Idempotency-Key}) a repeat answers the
   * account as it is now and changes nothing (a retry after a lost reply, even after a later rename
   * by another device: it does not undo that one); the key with another nickname is 409. The key is
   * stored with the {@code NicknameChanged} event, in the same statement.
   */
  public Mono<Renamed> rename(String playerId, String nickname, String clientKey, Instant now) {
    String nick = Credentials.nickname(nickname);
    String key = Credentials.canonical(nick).orElseThrow();
    java.util.Optional<IdempotencyKey> once =
        java.util.Optional.ofNullable(clientKey)
            .map(k -> IdempotencyKey.of("rename:" + k, "rename", nick));
    EventData changed =
        new EventData(
            NicknameChanged.getDescriptor().getFullName(),
            NicknameChanged.newBuilder()
                .setPlayerId(playerId)
                .setNickname(nick)
                .setChangedAtEpochMs(now.toEpochMilli())
                .build()
                .toByteArray());
    Mono<Renamed> renamed =
        journal
            .versions(List.of(playerId))
            .flatMap(
                versions -> {
                  Long version = versions.get(playerId);
                  if (version == null) {
                    return Mono.error(
                        new MemberRejected(
                            MemberRejected.Kind.NOT_FOUND, "no account " + playerId));
                  }
                  return db.sql(RENAME_SQL)
                      .bind(0, playerId)
                      .bind(1, nick)
                      .bind(2, key)
                      .map(row -> row.get(0, String.class))
                      .one()
                      .switchIfEmpty(
                          Mono.error(
                              new MemberRejected(
                                  MemberRejected.Kind.NOT_FOUND, "no account " + playerId)))
                      .flatMap(
                          replaced ->
                              journal
                                  .appendAtomically(
                                      List.of(
                                          new AppendRequest(
                                              AGGREGATE_TYPE,
                                              playerId,
                                              version,
                                              List.of(changed),
                                              now,
                                              once)))
                                  .then(find(playerId))
                                  .map(a -> new Renamed(a, java.util.Optional.of(replaced))));
                })
            .as(tx::transactional);
    if (once.isPresent()) {
      IdempotencyKey k = once.get();
      Mono<Renamed> repeat =
          journal
              .findKey(playerId, k.value())
              .flatMap(found -> answer(found, k))
              .map(a -> new Renamed(a, java.util.Optional.empty()));
      // Looked up first (a repeat changes nothing), and again when the rename lost a race: to its
      // own first try, whose key is stored by then.
      renamed =
          repeat.switchIfEmpty(
              renamed.onErrorResume(
                  e ->
                      e instanceof ConcurrencyConflict
                          || e
                              instanceof org.springframework.dao.PessimisticLockingFailureException,
                  e -> repeat.switchIfEmpty(Mono.error(e))));
    }
    return renamed
        .onErrorMap(DuplicateKeyException.class, e -> taken(nick))
        .onErrorMap(
            ConcurrencyConflict.class,
            e ->
                new MemberRejected(
                    MemberRejected.Kind.CONFLICT, "the account changed concurrently; try again"))
        // Two renames swapping nicknames wait on each other's new name; PostgreSQL ends one
        // (deadlock: rolled back whole, nothing written): 409 to try again, not 500.
        .onErrorMap(
            org.springframework.dao.PessimisticLockingFailureException.class,
            e ->
                new MemberRejected(
                    MemberRejected.Kind.CONFLICT,
                    "another rename took part of this one's way; try again"));
  }

  /** A keyed rename's repeat: the account now; the key with another nickname, 409. */
  private Mono<Account> answer(dev.citadel.eventstore.KeyRecord found, IdempotencyKey key) {
    if (!found.fingerprint().equals(key.fingerprint())) {
      return Mono.error(
          new MemberRejected(
              MemberRejected.Kind.CONFLICT,
              "this Idempotency-Key was used for another rename; use a new key for a new one"));
    }
    return find(found.aggregateId());
  }

  private static MemberRejected taken(String nick) {
    return new MemberRejected(MemberRejected.Kind.CONFLICT, "nickname '" + nick + "' is taken");
  }

  // bcrypt is deliberately slow (~50-100 ms): never on the event loop.
  // Its queue is bounded: past it, a sign-up or log-in is refused at once (503, Retry-After)
  // instead of waiting behind thousands of others for seconds.
  // Sign-ups have a share of that queue only ({@code maxSignUpsHashing}): log-ins keep the rest.
  private Mono<String> hash(String password) {
    return asSignUp(
        Mono.fromCallable(() -> passwords.encode(password))
            .subscribeOn(hashing)
            .onErrorMap(RejectedExecutionException.class, Accounts::busy));
  }

  /** bcrypt work of a sign-up (a hash, a keyed repeat's check): within the sign-ups' share. */
  private <T> Mono<T> asSignUp(Mono<T> work) {
    return Mono.defer(
        () -> {
          if (signUpsHashing.incrementAndGet() > maxSignUpsHashing) {
            signUpsHashing.decrementAndGet();
            return Mono.error(
                busy(new RejectedExecutionException("sign-ups' share of bcrypt is full")));
          }
          return work.doFinally(signal -> signUpsHashing.decrementAndGet());
        });
  }

  private Mono<Boolean> matches(String password, String hash) {
    return Mono.fromCallable(() -> passwords.matches(password, hash))
        .subscribeOn(hashing)
        .onErrorMap(RejectedExecutionException.class, Accounts::busy);
  }

  private static MemberRejected busy(RejectedExecutionException e) {
    return new MemberRejected(
        MemberRejected.Kind.BUSY, "too many sign-ups and log-ins at once; try again in a second");
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
