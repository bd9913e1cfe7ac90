package dev.citadel.web.security;

/** Where a service serves its OpenAPI description (springdoc's defaults) and the gateway its UI. */
public final class ApiDocsPaths {
  /** The description itself, JSON. */
  public static final String DESCRIPTION = "/v3/api-docs";

  /** Everything of the description and its browsable UI. */
  static final String[] PUBLIC = {
    DESCRIPTION,
    DESCRIPTION + "/**",
    DESCRIPTION + ".yaml",
    "/swagger-ui.html",
    "/swagger-ui/**",
    "/webjars/swagger-ui/**"
  };

  private ApiDocsPaths() {}
}
