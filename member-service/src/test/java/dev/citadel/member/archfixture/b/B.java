package dev.citadel.member.archfixture.b;

/** Fixture: the other half of the cycle, and a use of package a from outside the edges. */
public final class B {
  public dev.citadel.member.archfixture.a.A other() {
    return new dev.citadel.member.archfixture.a.A();
  }
}
