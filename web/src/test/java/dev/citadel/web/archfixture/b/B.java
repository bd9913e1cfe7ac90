package dev.citadel.web.archfixture.b;

/** Fixture: the other half of the cycle. */
public final class B {
  public dev.citadel.web.archfixture.a.A other() {
    return new dev.citadel.web.archfixture.a.A();
  }
}
