package dev.citadel.gateway;

import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.web.testing.TestIdentity;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** A gateway of the tests' own: free ports, the shared identity and Redis, given instances. */
final class TestGateways {
  private TestGateways() {}

  /** The arguments every test gateway runs with, then {@code more}. */
  static List<String> args(String instances, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--server.port=0",
                "--management.server.port=0",
                "--CITADEL_MEMBER_URL=" + TestIdentity.shared().memberUrl(),
                "--citadel.security.client.secret=" + TestIdentity.CLIENT_SECRETS.get("gateway"),
                "--spring.data.redis.url=" + SharedInfra.redis().url(),
                "--citadel.gateway.game-state.instances=" + instances));
    args.addAll(List.of(more));
    return args;
  }

  static ConfigurableApplicationContext start(String instances, String... more) {
    return new SpringApplicationBuilder(GatewayApplication.class)
        .run(args(instances, more).toArray(String[]::new));
  }
}
