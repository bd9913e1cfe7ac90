package dev.citadel.web.problem;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.http.codec.CodecCustomizer;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.type.LogicalType;

/**
 * The same edge for every service: errors as JSON problems ({@link ProblemWebExceptionHandler}),
 * request bodies limited in size ({@code citadel.web.max-body-size}, 64 KB by default: no Citadel
 * request comes near it), and JSON read strictly: a number is never read as text nor text as a
 * number ({@code "25"} is not 25 gold, {@code 123} is not a nickname), no fraction becomes an
 * integer, no null becomes a 0.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class ProblemAutoConfiguration {
  static final DataSize DEFAULT_MAX_BODY = DataSize.ofKilobytes(64);

  @Bean
  ProblemWebExceptionHandler problemWebExceptionHandler() {
    return new ProblemWebExceptionHandler();
  }

  @Bean
  CodecCustomizer citadelBodyLimit(Environment env) {
    DataSize max = env.getProperty("citadel.web.max-body-size", DataSize.class, DEFAULT_MAX_BODY);
    return configurer -> configurer.defaultCodecs().maxInMemorySize((int) max.toBytes());
  }

  @Bean
  @ConditionalOnClass(JsonMapperBuilderCustomizer.class)
  JsonMapperBuilderCustomizer citadelStrictJson() {
    return builder ->
        builder
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .withCoercionConfig(
                LogicalType.Textual,
                c ->
                    c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(
                LogicalType.Integer,
                c ->
                    c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(
                LogicalType.Float,
                c ->
                    c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(
                LogicalType.Boolean,
                c ->
                    c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail));
  }
}
