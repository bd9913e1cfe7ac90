package dev.citadel.match.archfixture.a;

/** Fixture: depends on package b, which depends back on a (a cycle). */
public final class A {
  public dev.citadel.match.archfixture.b.B other() {
    return new dev.citadel.match.archfixture.b.B();
  }
}
