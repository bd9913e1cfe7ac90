package dev.citadel.gamestate.archfixture.api;

/** Fixture: the API package. */
public final class Controller {
  public static String route() {
    return "/fixture";
  }

  private Controller() {}
}
