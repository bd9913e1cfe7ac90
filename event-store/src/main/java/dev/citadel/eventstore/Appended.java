package dev.citadel.eventstore;

/** A successful append: the stream's new version. */
public record Appended(String aggregateId, long version) {}
