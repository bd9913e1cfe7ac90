package dev.citadel.infra.kafka;

/** How clients reach a Kafka cluster. */
public record KafkaEndpoint(String bootstrapServers) {}
