package dev.citadel.match.config;

import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.lifecycle.Expiry;
import dev.citadel.match.lifecycle.Lifecycle;
import dev.citadel.match.lifecycle.Transitions;
import dev.citadel.match.matcher.Matcher;
import dev.citadel.match.presence.PresenceRelay;
import dev.citadel.match.queue.QueueClock;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.web.lifecycle.BackgroundTasks;
import dev.citadel.web.security.CitadelSecurity;
import dev.citadel.web.security.Scopes;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;

@Configuration(proxyBeanMethods = false)
public class MatchConfiguration {
  /** How often waiting presence changes are moved to Kafka. */
  static final java.time.Duration PRESENCE_INTERVAL = java.time.Duration.ofMillis(50);

  /** The audience service tokens name to call match-service. */
  public static final String SERVICE_NAME = "match-service";

  /** Players queue, leave and look; load tests queue in bulk (where that route exists). */
  @Bean
  SecurityWebFilterChain security(ServerHttpSecurity http, CitadelSecurity citadel) {
    return citadel.serviceChain(
        http,
        routes ->
            routes
                .pathMatchers("/internal/match/bulk")
                .hasAuthority(Scopes.authority(Scopes.MATCH_BULK)),
        "/api/**");
  }

  @Bean
  Queues queues(ReactiveStringRedisTemplate redis, MatchProperties props) {
    return new Queues(redis, props.match().queues());
  }

  @Bean(destroyMethod = "close")
  MessagePublisher messagePublisher(MatchProperties props) {
    MatchProperties.Topics t = props.match().topics();
    KafkaTopics.ensure(
        kafka(props), List.of(t.found(), t.assigned(), t.rejected(), t.ended(), t.presence()));
    return new ReactorKafkaPublisher(kafka(props));
  }

  static KafkaSettings kafka(MatchProperties props) {
    return props.kafka().settings(props.instanceId());
  }

  @Bean
  HandOff handOff(MessagePublisher publisher, MatchProperties props, MeterRegistry meters) {
    return new HandOff(publisher, props.match().topics().found(), meters);
  }

  @Bean
  Transitions transitions(ReactiveStringRedisTemplate redis) {
    return new Transitions(new PlayerNotifier(redis));
  }

  @Bean
  PresenceRelay presenceRelay(
      ReactiveStringRedisTemplate redis,
      MessagePublisher publisher,
      MatchProperties props,
      MeterRegistry meters) {
    return new PresenceRelay(
        redis,
        publisher,
        Queues.PRESENCE_STREAM,
        props.match().topics().presence(),
        props.match().lockTtl(),
        meters);
  }

  /** The queues' time: Redis's, shared by every replica. */
  @Bean
  QueueClock queueClock(ReactiveStringRedisTemplate redis, Clock clock, MeterRegistry meters) {
    return new QueueClock(redis, clock, meters);
  }

  @Bean
  Matcher matcher(
      Queues queues,
      HandOff handOff,
      MatchProperties props,
      QueueClock clock,
      MeterRegistry meters) {
    MatchProperties.Match m = props.match();
    return new Matcher(
        queues,
        handOff,
        new Matcher.Settings(
            m.playersPerMatch(),
            new SkillWindow(
                m.window().start(),
                m.window().perSecond(),
                m.window().cap(),
                m.window().maxWait().toMillis()),
            m.roomTimeout(),
            m.lockTtl(),
            m.maxMatchesPerTick() > 0
                ? m.maxMatchesPerTick()
                : Matcher.Settings.DEFAULT_MAX_MATCHES_PER_TICK),
        clock.asClock(),
        meters);
  }

  @Bean
  Lifecycle lifecycle(
      Queues queues,
      Transitions transitions,
      QueueClock clock,
      MatchProperties props,
      MeterRegistry meters) {
    MatchProperties.Topics t = props.match().topics();
    return new Lifecycle(
        queues,
        transitions,
        clock.asClock(),
        t.assigned(),
        t.rejected(),
        t.ended(),
        props.match().queues(),
        meters);
  }

  @Bean
  Expiry expiry(
      Queues queues,
      HandOff handOff,
      QueueClock clock,
      MatchProperties props,
      MeterRegistry meters) {
    return new Expiry(queues, handOff, clock.asClock(), props.match().roomTimeout(), meters);
  }

  /** game-state, asked with this service's token (ratings.read) for a joining player's rating. */
  @Bean
  dev.citadel.match.ratings.Ratings ratings(
      MatchProperties props, dev.citadel.web.security.ServiceTokens tokens) {
    return new dev.citadel.match.ratings.Ratings(
        props.match().gameStateUrls().stream()
            .map(
                url ->
                    org.springframework.web.reactive.function.client.WebClient.builder()
                        .baseUrl(url)
                        .filter(tokens.bearer("game-state"))
                        .build())
            .toList());
  }

  /** The matcher, expiry, presence relay and lifecycle consumer, started with the application. */
  @Bean
  BackgroundTasks background(
      QueueClock clock,
      Matcher matcher,
      Lifecycle lifecycle,
      Expiry expiry,
      PresenceRelay presence,
      MessagePublisher publisher,
      MatchProperties props,
      MeterRegistry meters) {
    List<String> queues = props.match().queues();
    return BackgroundTasks.of(
        clock::start,
        () -> matcher.start(queues, props.match().tickInterval()),
        () -> expiry.start(queues, props.match().tickInterval()),
        () -> presence.start(PRESENCE_INTERVAL),
        () -> lifecycle.consume(new ReactorKafkaConsumer(kafka(props), publisher, meters)));
  }
}
