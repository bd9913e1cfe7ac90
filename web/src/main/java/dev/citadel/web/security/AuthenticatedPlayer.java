package dev.citadel.web.security;

/**
 * The player a request acts for, from its verified token. A controller method takes it as a
 * parameter; no header can set it.
 */
public record AuthenticatedPlayer(String id, String nickname) {}
