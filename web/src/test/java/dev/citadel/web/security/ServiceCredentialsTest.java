package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** A service that names its client must have its secret: otherwise it does not start. */
class ServiceCredentialsTest {
  final ApplicationContextRunner service =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(SecurityAutoConfiguration.class))
          .withPropertyValues(
              "citadel.security.jwks-uri=http://127.0.0.1:1/.well-known/jwks.json",
              "citadel.security.client.token-uri=http://127.0.0.1:1/oauth2/token");

  @Test
  void a_client_id_without_its_secret_stops_the_start() {
    service
        .withPropertyValues("citadel.security.client.id=gateway")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .rootCause()
                  .hasMessageContaining("CITADEL_SERVICE_CLIENT_SECRET");
            });
  }

  @Test
  void a_full_client_and_no_client_at_all_both_start() {
    service
        .withPropertyValues(
            "citadel.security.client.id=gateway", "citadel.security.client.secret=s3cret")
        .run(context -> assertThat(context).hasNotFailed().hasSingleBean(ServiceTokens.class));
    service.run(context -> assertThat(context).hasNotFailed().hasSingleBean(ServiceTokens.class));
  }
}
