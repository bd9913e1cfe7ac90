package dev.citadel.infra.platform;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Before and after the platform's services start: their ports free, then each one ready. */
final class Readiness {
  private Readiness() {}

  /** Fails at once if a port a service needs is taken (by a platform left running, say). */
  static void requireFree(ServiceSpec spec) {
    for (int port : new int[] {spec.port(), spec.managementPort()}) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress("127.0.0.1", port));
      } catch (IOException e) {
        throw new IllegalStateException(
            "port " + port + " of " + spec.name() + " is in use: is another platform running?", e);
      }
    }
  }

  /**
   * Polls every service until each answers on {@code path}; answers how long each took from its
   * start ({@code startedAt}, nanoTime by name) to its first answer. All are watched at once, so
   * one slow service does not inflate the others' times.
   */
  static Map<String, Duration> awaitAll(
      List<ServiceProcess> services, Map<String, Long> startedAt, String path, Duration timeout) {
    Map<String, Duration> ready = new LinkedHashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (ready.size() < services.size()) {
        for (ServiceProcess service : services) {
          String name = service.spec().name();
          if (!ready.containsKey(name) && service.healthyNow(path)) {
            ready.put(name, Duration.ofNanos(System.nanoTime() - startedAt.get(name)));
          }
        }
        if (ready.size() < services.size() && System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "not healthy within "
                  + timeout
                  + ": "
                  + services.stream()
                      .map(s -> s.spec().name())
                      .filter(n -> !ready.containsKey(n))
                      .toList());
        }
        if (ready.size() < services.size()) {
          Thread.sleep(200); // the launcher's polling interval (not a test)
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return ready;
  }
}
