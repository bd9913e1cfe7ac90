package dev.citadel.web.archfixture.a;

/** Fixture: depends on package b, which depends back on a (a cycle). */
public final class A {
  public dev.citadel.web.archfixture.b.B other() {
    return new dev.citadel.web.archfixture.b.B();
  }
}
