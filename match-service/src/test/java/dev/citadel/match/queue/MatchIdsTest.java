package dev.citadel.match.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

@CitadelInfra
class MatchIdsTest {

  @Test
  void ids_are_uuid_v7_in_time_order() {
    Random random = new Random(1);
    UUID early = MatchIds.uuidV7(1_700_000_000_000L, random);
    UUID late = MatchIds.uuidV7(1_700_000_000_001L, random);
    assertThat(early.version()).isEqualTo(7);
    assertThat(early.variant()).isEqualTo(2);
    assertThat(early.getMostSignificantBits() >>> 16).isEqualTo(1_700_000_000_000L);
    assertThat(early.toString().compareTo(late.toString())).isNegative();
    assertThat(MatchIds.next("ranked", 0)).startsWith("ranked-").hasSize("ranked-".length() + 36);
  }

  @Test
  void after_redis_lost_its_data_a_new_match_never_gets_an_old_id() {
    LettuceConnectionFactory factory =
        new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    try {
      ReactiveStringRedisTemplate redis = new ReactiveStringRedisTemplate(factory);
      Queues queues = new Queues(redis);
      String queue = "ids-" + UUID.randomUUID();
      String first = popOne(queues, queue);
      // Redis restarted without its data: every key of the queue is gone.
      redis.keys("{mq}:" + queue + ":*").flatMap(redis::delete).blockLast();
      String second = popOne(queues, queue);
      assertThat(second).isNotEqualTo(first);
      List<String> many = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        many.add(popOne(queues, queue));
      }
      assertThat(many).doesNotHaveDuplicates().doesNotContain(first, second);
    } finally {
      factory.destroy();
    }
  }

  private static String popOne(Queues queues, String queue) {
    long now = System.currentTimeMillis();
    List<Ticket> ten = new ArrayList<>();
    IntStream.range(0, 10)
        .forEach(i -> ten.add(new Ticket("p-" + UUID.randomUUID(), 1500, now, "n")));
    queues.enqueue(queue, ten, now).block();
    List<String> players = ten.stream().map(Ticket::playerId).toList();
    return queues.popAll(queue, List.of(players), now, now + 10_000).block().get(0).orElseThrow();
  }
}
