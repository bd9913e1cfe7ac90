package dev.citadel.gateway.archfixture.a;

/** Fixture: depends on package b, which depends back on a (a cycle). */
public final class A {
  public dev.citadel.gateway.archfixture.b.B other() {
    return new dev.citadel.gateway.archfixture.b.B();
  }
}
