package dev.citadel.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Ports on the loopback interface. */
public final class FreePorts {
  private FreePorts() {}

  /**
   * Below Linux's ephemeral range (32768-60999 by default), where the kernel picks the local ports
   * of outgoing connections: a port taken from that range (what {@code new ServerSocket(0)} gives)
   * was now and then taken by some client's connection before the service that was meant to listen
   * on it had started ("Port 44211 was already in use").
   */
  static final int FIRST = 20_000;

  static final int LAST = 32_000;

  /** A port that was free on 127.0.0.1 a moment ago, outside the ephemeral range. */
  public static int next() {
    java.util.concurrent.ThreadLocalRandom random =
        java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = random.nextInt(FIRST, LAST);
      if (!HANDED_OUT.add(port)) {
        continue; // never the same port twice from this JVM
      }
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new UncheckedIOException(
        new IOException("no free port on 127.0.0.1 in " + FIRST + "-" + LAST));
  }

  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Whether something accepts connections on 127.0.0.1:port. */
  public static boolean inUse(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code port} itself when it is not 0, otherwise a free one. */
  public static int orFree(int port) {
    return port == 0 ? next() : port;
  }
}
