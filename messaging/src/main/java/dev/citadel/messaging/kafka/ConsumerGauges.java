package dev.citadel.messaging.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A consumer group's partitions paused and records held ({@link PartitionFlows}), over every
 * subscription of one {@link ReactorKafkaConsumer}.
 */
record ConsumerGauges(AtomicInteger paused, AtomicInteger held) {
  static ConsumerGauges register(MeterRegistry meters, String groupId) {
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
