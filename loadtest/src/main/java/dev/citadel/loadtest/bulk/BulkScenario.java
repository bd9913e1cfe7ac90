package dev.citadel.loadtest.bulk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bulk path: players queued through match-service's load-test endpoint ({@code POST
 * /internal/match/bulk}, profile {@code loadtest}, a service token with {@code match.bulk}), 1,000
 * per request from a few clients at once, as the reference test did.
 */
public final class BulkScenario {
  static final int BATCH = 1000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI bulkUri;
  private final ServiceToken token;
  private final String queue;
  private final int clients;
  private final Clock clock;
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  /** What the enqueue stage did. */
  public record Enqueued(long queued, long refused, long startedAtMs, long finishedAtMs) {}

  public BulkScenario(
      String matchServiceUrl, ServiceToken token, String queue, int clients, Clock clock) {
    this.bulkUri = URI.create(matchServiceUrl + "/internal/match/bulk");
    this.token = token;
    this.queue = queue;
    this.clients = clients;
    this.clock = clock;
  }

  /** Players accepted by match-service so far. */
  public long queued() {
    return queued.get();
  }

  /**
   * Queues every player; blocks until every request is answered.
   *
   * @param onBatch called with the epoch milliseconds and size of every accepted batch
   */
  public Enqueued enqueue(List<Roster.Player> players, BatchListener onBatch) throws Exception {
    long started = clock.millis();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (List<Roster.Player> batch : Roster.batches(players, BATCH)) {
        sent.add(
            pool.submit(
                () -> {
                  send(batch);
                  onBatch.accepted(clock.millis(), batch.size());
                  return null;
                }));
      }
      for (Future<?> f : sent) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    return new Enqueued(queued.get(), refused.get(), started, clock.millis());
  }

  /** Told of every batch match-service accepted. */
  @FunctionalInterface
  public interface BatchListener {
    void accepted(long atMs, int players);
  }

  private void send(List<Roster.Player> batch) throws IOException, InterruptedException {
    List<Map<String, Object>> body = new ArrayList<>(batch.size());
    for (Roster.Player p : batch) {
      Map<String, Object> player = new LinkedHashMap<>();
      player.put("playerId", p.id());
      player.put("nickname", p.nickname());
      player.put("elo", p.elo());
      body.add(player);
    }
    HttpRequest request =
        HttpRequest.newBuilder(bulkUri)
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + token.get())
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    JSON.writeValueAsBytes(Map.of("queue", queue, "players", body))))
            .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "bulk enqueue answered " + response.statusCode() + ": " + response.body());
    }
    JsonNode answer = JSON.readTree(response.body());
    queued.addAndGet(answer.path("queued").asLong());
    refused.addAndGet(answer.path("refused").asLong());
  }
}
