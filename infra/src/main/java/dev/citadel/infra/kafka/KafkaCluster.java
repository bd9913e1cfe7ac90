package dev.citadel.infra.kafka;

import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Running;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import kafka.server.BrokerServer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A real Kafka cluster in KRaft mode: Kafka's own {@code KafkaClusterTestKit} in this JVM (one
 * controller plus N brokers), a Docker container, or an external cluster.
 *
 * <p>With three or more brokers, topics are replicated three times with {@code
 * min.insync.replicas=2}, so an {@code acks=all} producer keeps going while one broker is down.
 */
public final class KafkaCluster implements Running<KafkaEndpoint> {
  private final KafkaEndpoint endpoint;
  private final String origin;
  private final KafkaClusterTestKit testKit; // null unless started in this JVM
  private final AutoCloseable stopper;

  private KafkaCluster(
      KafkaEndpoint endpoint, String origin, KafkaClusterTestKit testKit, AutoCloseable stopper) {
    this.endpoint = endpoint;
    this.origin = origin;
    this.testKit = testKit;
    this.stopper = stopper;
  }

  /**
   * Starts (or connects to) Kafka.
   *
   * @param brokers how many brokers to start locally (1, or 3 for replication)
   */
  public static KafkaCluster start(InfraSettings settings, int brokers) {
    if (settings.kafkaBootstrapServers().isPresent()) {
      return new KafkaCluster(
          new KafkaEndpoint(settings.kafkaBootstrapServers().get()), "external", null, () -> {});
    }
    return switch (settings.source()) {
      case LOCAL -> startInProcess(brokers);
      case DOCKER -> startContainer();
    };
  }

  /**
   * A local cluster of {@code brokers} brokers. The kit binds its listeners to free ports itself
   * (overriding {@code listeners} only changes what is advertised), so the ports are whatever
   * {@link #endpoint()} says.
   */
  public static KafkaCluster startLocal(int brokers) {
    return startInProcess(brokers);
  }

  private static KafkaCluster startInProcess(int brokers) {
    if (brokers < 1) {
      throw new IllegalArgumentException("need at least one broker");
    }
    int replication = Math.min(brokers, 3);
    int minInsync = replication >= 3 ? 2 : 1;
    try {
      // Our own directory: Kafka's default temp dirs are deleted by a JVM shutdown hook that
      // races with a clean broker shutdown on Ctrl-C.
      Path dataDir = Files.createTempDirectory("citadel-kafka-");
      TestKitNodes nodes =
          new TestKitNodes.Builder()
              .setBaseDirectory(dataDir)
              .setCombined(false)
              .setNumControllerNodes(1)
              .setNumBrokerNodes(brokers)
              .build();
      KafkaClusterTestKit kit =
          new KafkaClusterTestKit.Builder(nodes)
              .setConfigProp("default.replication.factor", String.valueOf(replication))
              .setConfigProp("min.insync.replicas", String.valueOf(minInsync))
              .setConfigProp("offsets.topic.replication.factor", String.valueOf(replication))
              .setConfigProp("offsets.topic.num.partitions", "10")
              .setConfigProp(
                  "transaction.state.log.replication.factor", String.valueOf(replication))
              .setConfigProp("transaction.state.log.min.isr", String.valueOf(minInsync))
              .setConfigProp("num.partitions", "6")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("auto.create.topics.enable", "true")
              .build();
      kit.format();
      kit.startup();
      kit.waitForReadyBrokers();
      return new KafkaCluster(
          new KafkaEndpoint(kit.bootstrapServers()),
          "in-process KRaft (" + brokers + " broker" + (brokers == 1 ? "" : "s") + ")",
          kit,
          () -> {
            kit.close();
            deleteRecursively(dataDir);
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting Kafka", e);
    } catch (Exception e) {
      throw new IllegalStateException("could not start Kafka", e);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static KafkaCluster startContainer() {
    KafkaContainer container = new KafkaContainer("apache/kafka:4.1.2");
    container.start();
    return new KafkaCluster(
        new KafkaEndpoint(container.getBootstrapServers()), "docker", null, container::stop);
  }

  @Override
  public KafkaEndpoint endpoint() {
    return endpoint;
  }

  @Override
  public String origin() {
    return origin;
  }

  /** Broker ids of a cluster started in this JVM, in ascending order. */
  public List<Integer> brokerIds() {
    return requireLocal().brokers().keySet().stream().sorted().toList();
  }

  /** Stops one broker of a cluster started in this JVM (a crash, as far as clients can tell). */
  public void stopBroker(int brokerId) {
    BrokerServer broker = requireLocal().brokers().get(brokerId);
    if (broker == null) {
      throw new IllegalArgumentException("no broker " + brokerId + " in " + brokerIds());
    }
    broker.shutdown();
    broker.awaitShutdown();
  }

  /**
   * Starts a broker that {@link #stopBroker} stopped, on its old data: it catches up from the
   * others and rejoins the in-sync replicas (a crashed broker coming back).
   */
  public void startBroker(int brokerId) {
    BrokerServer broker = requireLocal().brokers().get(brokerId);
    if (broker == null) {
      throw new IllegalArgumentException("no broker " + brokerId + " in " + brokerIds());
    }
    broker.startup();
  }

  private KafkaClusterTestKit requireLocal() {
    if (testKit == null) {
      throw new UnsupportedOperationException(
          "only a cluster started in this JVM (" + origin + ")");
    }
    return testKit;
  }

  @Override
  public void close() {
    try {
      stopper.close();
    } catch (Exception e) {
      throw new IllegalStateException("could not stop Kafka", e);
    }
  }
}
