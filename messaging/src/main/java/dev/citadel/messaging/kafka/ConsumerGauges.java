package dev.citadel.messaging.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A consumer group's partitions paused and records held ({@link PartitionFlows}), over every
 * subscription of every {@link ReactorKafkaConsumer} on one registry.
 */
record ConsumerGauges(AtomicInteger paused, AtomicInteger held) {
  /**
   * One pair per registry and group, whichever consumer instance asks: a service that restarts its
   * background work makes a new consumer, and Micrometer keeps the gauge bound to the first pair.
   */
  private static final Map<MeterRegistry, Map<String, ConsumerGauges>> BY_REGISTRY =
      Collections.synchronizedMap(new WeakHashMap<>());

  static ConsumerGauges of(MeterRegistry meters, String groupId) {
    return BY_REGISTRY
        .computeIfAbsent(meters, m -> new ConcurrentHashMap<>())
        .computeIfAbsent(groupId, g -> register(meters, g));
  }

  private static ConsumerGauges register(MeterRegistry meters, String groupId) {
    ConsumerGauges gauges = new ConsumerGauges(new AtomicInteger(), new AtomicInteger());
    Gauge.builder("citadel_consumer_paused_partitions", gauges.paused(), AtomicInteger::get)
        .description("Partitions not fetched for now: too many of their records wait to be handled")
        .tag("group", groupId)
        .strongReference(true)
        .register(meters);
    Gauge.builder("citadel_consumer_records_held", gauges.held(), AtomicInteger::get)
        .description("Records received and not yet handled")
        .tag("group", groupId)
        .strongReference(true)
        .register(meters);
    return gauges;
  }
}
