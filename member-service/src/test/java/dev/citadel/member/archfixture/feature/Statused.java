package dev.citadel.member.archfixture.feature;

/** Fixture: a feature's logic that decides an HTTP status outside the edges. */
public final class Statused {
  public org.springframework.http.HttpStatus status() {
    return org.springframework.http.HttpStatus.CONFLICT;
  }
}
