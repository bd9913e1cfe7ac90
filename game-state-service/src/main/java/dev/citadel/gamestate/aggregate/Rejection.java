package dev.citadel.gamestate.aggregate;

/** Marks an exception thrown by {@code decide}: the rules refused the command (not a failure). */
public interface Rejection {}
