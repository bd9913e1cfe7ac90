package dev.citadel.member.archfixture.a;

/** Fixture: depends on package b, which depends back on a (a cycle). */
public final class A {
  public dev.citadel.member.archfixture.b.B other() {
    return new dev.citadel.member.archfixture.b.B();
  }
}
