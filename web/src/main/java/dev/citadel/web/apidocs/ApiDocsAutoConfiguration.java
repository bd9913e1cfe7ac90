package dev.citadel.web.apidocs;

import dev.citadel.web.security.AuthenticatedPlayer;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * Every service describes its routes (OpenAPI 3, springdoc, at {@code /v3/api-docs}): a bearer
 * token on every operation, and the player a request acts for never shown as a parameter (it comes
 * from the token, see {@link AuthenticatedPlayer}). The gateway merges the public routes of all
 * services into one description.
 */
@AutoConfiguration
public class ApiDocsAutoConfiguration {
  public static final String BEARER = "bearer";

  static final String PROBLEM = "Problem";
  static final String ANY = "*/*";
  static final String JSON = "application/json";

  public ApiDocsAutoConfiguration() {
    SpringDocUtils.getConfig().addRequestWrapperToIgnore(AuthenticatedPlayer.class);
  }

  @Bean
  OpenAPI citadelOpenApi(@Value("${spring.application.name:citadel}") String service) {
    return new OpenAPI()
        .info(
            new Info()
                .title("Citadel " + service)
                .version("1")
                .description("Routes of " + service + "; identity comes from the bearer token."))
        .components(
            new Components()
                .addSecuritySchemes(
                    BEARER,
                    new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP)
                        .scheme("bearer")
                        .bearerFormat("JWT")))
        .addSecurityItem(new SecurityRequirement().addList(BEARER));
  }

  /**
   * Every answer is JSON (springdoc says {@code *}{@code /*} when a controller does not name it),
   * and every operation may answer an RFC 9457 problem, which is how every error here looks.
   */
  @Bean
  OpenApiCustomizer jsonAndProblems() {
    return api -> {
      api.getComponents()
          .addSchemas(
              PROBLEM,
              new ObjectSchema()
                  .description("An error (RFC 9457): what is wrong, for people and programs")
                  .addProperty("type", new StringSchema())
                  .addProperty("title", new StringSchema())
                  .addProperty("status", new IntegerSchema())
                  .addProperty("detail", new StringSchema())
                  .addProperty("instance", new StringSchema()));
      if (api.getPaths() == null) {
        return;
      }
      api.getPaths().values().stream()
          .flatMap(path -> path.readOperations().stream())
          .forEach(
              op -> {
                op.getResponses().values().stream()
                    .map(ApiResponse::getContent)
                    .filter(c -> c != null && c.containsKey(ANY))
                    .forEach(c -> c.addMediaType(JSON, c.remove(ANY)));
                op.getResponses()
                    .addApiResponse(
                        "default",
                        new ApiResponse()
                            .description("An error")
                            .content(
                                new Content()
                                    .addMediaType(
                                        "application/problem+json",
                                        new MediaType()
                                            .schema(
                                                new Schema<Object>()
                                                    .$ref("#/components/schemas/" + PROBLEM)))));
              });
    };
  }
}
