package dev.citadel.web.netty;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClientPoolDefaultsTest {
  final String before = System.getProperty(ClientPoolDefaults.MAX_IDLE_TIME);

  @AfterEach
  void restore() {
    if (before == null) {
      System.clearProperty(ClientPoolDefaults.MAX_IDLE_TIME);
    } else {
      System.setProperty(ClientPoolDefaults.MAX_IDLE_TIME, before);
    }
  }

  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  static class Nothing {}

  @Test
  void every_spring_application_sets_it_as_it_starts() {
    System.clearProperty(ClientPoolDefaults.MAX_IDLE_TIME);
    try (var context =
        new org.springframework.boot.builder.SpringApplicationBuilder(Nothing.class)
            .web(org.springframework.boot.WebApplicationType.NONE)
            .run()) {
      assertThat(context.isActive()).isTrue();
      assertThat(System.getProperty(ClientPoolDefaults.MAX_IDLE_TIME))
          .isEqualTo(ClientPoolDefaults.MAX_IDLE_MILLIS);
    }
  }

  @Test
  void pooled_connections_idle_shorter_than_the_servers_bound_unless_the_jvm_says_otherwise() {
    System.clearProperty(ClientPoolDefaults.MAX_IDLE_TIME);
    ClientPoolDefaults.apply();
    assertThat(Long.parseLong(System.getProperty(ClientPoolDefaults.MAX_IDLE_TIME)))
        .isLessThan(java.time.Duration.ofSeconds(75).toMillis());
    System.setProperty(ClientPoolDefaults.MAX_IDLE_TIME, "5000");
    ClientPoolDefaults.apply();
    assertThat(System.getProperty(ClientPoolDefaults.MAX_IDLE_TIME)).isEqualTo("5000");
  }
}
