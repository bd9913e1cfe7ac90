package dev.citadel.gamestate.archfixture.b;

/** Fixture: the other half of the cycle. */
public final class B {
  public dev.citadel.gamestate.archfixture.a.A other() {
    return new dev.citadel.gamestate.archfixture.a.A();
  }
}
