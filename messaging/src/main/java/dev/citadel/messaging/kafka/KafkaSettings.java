package dev.citadel.messaging.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka client settings shared by Citadel's publishers and consumers.
 *
 * @param compression {@code none} by default: on loopback compression only costs CPU; use {@code
 *     lz4} or {@code snappy} across a real network
 * @param deliveryTimeout how long a publish may retry before it fails
 * @param maxBlock how long handing a record to the producer may wait for the topic's metadata or
 *     for room in its buffer (Kafka's {@code max.block.ms}) before the publish fails
 * @param handlerBackoff first pause before a failed handler is tried again (doubling from there)
 * @param handlerMaxBackoff the longest pause between tries: a transient failure is retried for as
 *     long as it lasts, only {@link dev.citadel.messaging.Unprocessable} messages are dead-lettered
 * @param credentials SASL/SCRAM credentials of this client, or null for a cluster without auth
 */
public record KafkaSettings(
    String bootstrapServers,
    String clientId,
    String compression,
    Duration linger,
    int batchSizeBytes,
    Duration deliveryTimeout,
    Duration maxBlock,
    Duration handlerBackoff,
    Duration handlerMaxBackoff,
    Duration commitInterval,
    Credentials credentials) {

  /**
   * A client's SCRAM-SHA-512 user ({@code SASL_SSL} when TLS is set up, else {@code
   * SASL_PLAINTEXT}).
   */
  public record Credentials(String username, String password, String securityProtocol) {
    @Override
    public String toString() {
      return "Credentials[" + username + ", " + securityProtocol + "]";
    }
  }

  public static KafkaSettings defaults(String bootstrapServers, String clientId) {
    return new KafkaSettings(
        bootstrapServers,
        clientId,
        "none",
        Duration.ofMillis(5),
        32 * 1024,
        Duration.ofSeconds(60),
        Duration.ofSeconds(60),
        Duration.ofMillis(100),
        Duration.ofSeconds(10),
        Duration.ofMillis(200),
        null);
  }

  /**
   * With the client's SCRAM credentials when a username is given (a cluster with auth); as it is
   * otherwise.
   */
  public KafkaSettings withCredentials(String username, String password, String securityProtocol) {
    if (username == null || username.isBlank()) {
      return this;
    }
    return new KafkaSettings(
        bootstrapServers,
        clientId,
        compression,
        linger,
        batchSizeBytes,
        deliveryTimeout,
        maxBlock,
        handlerBackoff,
        handlerMaxBackoff,
        commitInterval,
        new Credentials(
            username,
            password,
            securityProtocol == null || securityProtocol.isBlank()
                ? "SASL_PLAINTEXT"
                : securityProtocol));
  }

  /** The connection and authentication settings every client (producer, consumer, admin) uses. */
  public Map<String, Object> commonProperties() {
    Map<String, Object> p = new HashMap<>();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    if (credentials != null) {
      p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, credentials.securityProtocol());
      p.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512");
      p.put(
          SaslConfigs.SASL_JAAS_CONFIG,
          "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
              + jaasQuoted(credentials.username())
              + "\" password=\""
              + jaasQuoted(credentials.password())
              + "\";");
    }
    return p;
  }

  public KafkaSettings withHandlerBackoff(Duration first, Duration max) {
    return new KafkaSettings(
        bootstrapServers,
        clientId,
        compression,
        linger,
        batchSizeBytes,
        deliveryTimeout,
        maxBlock,
        first,
        max,
        commitInterval,
        credentials);
  }

  public KafkaSettings withMaxBlock(Duration wait) {
    return new KafkaSettings(
        bootstrapServers,
        clientId,
        compression,
        linger,
        batchSizeBytes,
        deliveryTimeout,
        wait,
        handlerBackoff,
        handlerMaxBackoff,
        commitInterval,
        credentials);
  }

  /** Inside a JAAS quoted value: backslash and quote escaped (the parser unescapes them). */
  static String jaasQuoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** Durable, never-duplicating producer: acks=all, idempotence, bounded retries. */
  Map<String, Object> producerProperties() {
    Map<String, Object> p = commonProperties();
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    p.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE); // bounded by delivery.timeout.ms
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) deliveryTimeout.toMillis());
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock.toMillis());
    p.put(ProducerConfig.LINGER_MS_CONFIG, (int) linger.toMillis());
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, batchSizeBytes);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return p;
  }

  /** Consumer whose offsets are committed by us, after the handler, never automatically. */
  Map<String, Object> consumerProperties(String groupId) {
    Map<String, Object> p = commonProperties();
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-" + groupId);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    // A replica that crashed (SIGKILL, OOM) keeps its partitions until its session times out:
    // 10 s instead of the default 45 s, so its players' messages move on quickly. A pause longer
    // than that (GC, a frozen VM) costs a rebalance, which the consumer survives.
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
    // A topic created after we subscribed (first message of a new service) is seen within
    // seconds, not after the default five minutes.
    p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return p;
  }
}
