package dev.citadel.messaging;

/** Where the cluster stored a published message (acknowledged by all in-sync replicas). */
public record Delivery(String topic, int partition, long offset) {}
