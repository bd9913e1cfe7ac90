package dev.citadel.gamestate.archfixture.a;

/** Fixture: depends on package b, which depends back on a (a cycle). */
public final class A {
  public dev.citadel.gamestate.archfixture.b.B other() {
    return new dev.citadel.gamestate.archfixture.b.B();
  }
}
