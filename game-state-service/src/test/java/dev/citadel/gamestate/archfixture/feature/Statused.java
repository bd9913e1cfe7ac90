package dev.citadel.gamestate.archfixture.feature;

/** Fixture: a feature's logic that decides an HTTP status, and builds on the API's controller. */
public final class Statused {
  public org.springframework.http.HttpStatus status() {
    return org.springframework.http.HttpStatus.CONFLICT;
  }

  public String route() {
    return dev.citadel.gamestate.archfixture.api.Controller.route();
  }
}
