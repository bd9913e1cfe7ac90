package dev.citadel.gamestate.archfixture.domain;

/** Fixture: a domain class that knows its wire format. */
public final class Wired {
  public com.google.protobuf.ByteString bytes() {
    return com.google.protobuf.ByteString.EMPTY;
  }
}
