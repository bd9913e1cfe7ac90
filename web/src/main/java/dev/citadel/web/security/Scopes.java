package dev.citadel.web.security;

/**
 * What a service token may do at its audience. Each {@code /internal/**} route names the one scope
 * it needs; a player token has none of them.
 */
public final class Scopes {
  /** member-service: may this player queue now? (match-service) */
  public static final String PRESENCE_READ = "presence.read";

  /** game-state: two-phase commit participant calls (other game-state instances). */
  public static final String TX_PARTICIPATE = "tx.participate";

  /** game-state: grant gold, experience and items to a player (game servers). */
  public static final String GAME_GRANT = "game.grant";

  /** game-state: read a match (game servers). */
  public static final String MATCH_READ = "match.read";

  /** game-state: end a match, post its result (game servers). */
  public static final String MATCH_RESULTS = "match.results";

  public static final String RATINGS_READ = "ratings.read";

  /**
   * member-service: the gateway vouches for the client address it writes in {@code X-Forwarded-For}
   * (log-in throttling counts per address).
   */
  public static final String EDGE_FORWARD = "edge.forward";

  /** Every service: read its own API description, internal routes included (the gateway). */
  public static final String API_DOCS = "api.docs";

  /** match-service: queue players in bulk (load tests only). */
  public static final String MATCH_BULK = "match.bulk";

  private Scopes() {}

  /** The Spring Security authority a token with this scope holds. */
  public static String authority(String scope) {
    return "SCOPE_" + scope;
  }
}
