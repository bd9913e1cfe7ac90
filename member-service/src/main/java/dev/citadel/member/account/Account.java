package dev.citadel.member.account;

import java.time.Instant;

/** A registered player. */
public record Account(String playerId, String nickname, Instant createdAt) {}
