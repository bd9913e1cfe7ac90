package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

  @Test
  void without_a_username_clients_connect_without_sasl() {
    KafkaSettings s = KafkaSettings.defaults("k:9092", "c").withCredentials("", "x", null);
    assertThat(s.commonProperties()).containsOnlyKeys("bootstrap.servers");
    assertThat(s.producerProperties()).doesNotContainKey("sasl.jaas.config");
  }

  @Test
  void with_a_username_every_client_authenticates_with_scram() {
    KafkaSettings s =
        KafkaSettings.defaults("k:9092", "c").withCredentials("game-state", "pw", null);
    for (var props :
        java.util.List.of(
            s.producerProperties(), s.consumerProperties("g"), s.commonProperties())) {
      assertThat(props)
          .containsEntry("security.protocol", "SASL_PLAINTEXT")
          .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
      assertThat(props.get("sasl.jaas.config").toString())
          .contains("ScramLoginModule required username=\"game-state\" password=\"pw\";");
    }
    assertThat(s.credentials().toString()).doesNotContain("pw");
  }
}
