package dev.citadel.infra.junit;

import dev.citadel.infra.kafka.KafkaEndpoint;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.infra.redis.RedisEndpoint;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the shared infrastructure ({@link PostgresEndpoint}, {@link RedisEndpoint}, {@link
 * KafkaEndpoint}) into test constructors and methods, and stops it when the whole test run ends.
 * Use it through {@link CitadelInfra}.
 */
public final class InfraExtension implements ParameterResolver, BeforeAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(InfraExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    // The root store closes its AutoCloseable values when the test plan finishes.
    context
        .getRoot()
        .getStore(NAMESPACE)
        .computeIfAbsent(
            "stopper", key -> (AutoCloseable) SharedInfra::stopAll, AutoCloseable.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == PostgresEndpoint.class
        || type == RedisEndpoint.class
        || type == KafkaEndpoint.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    if (type == PostgresEndpoint.class) {
      return SharedInfra.postgres();
    }
    if (type == RedisEndpoint.class) {
      return SharedInfra.redis();
    }
    return SharedInfra.kafka();
  }
}
