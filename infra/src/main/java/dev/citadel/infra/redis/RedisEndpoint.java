package dev.citadel.infra.redis;

import java.net.URI;

/** How clients reach a Redis server. */
public record RedisEndpoint(String host, int port) {

  /** {@code redis://host:port}, the form of {@code CITADEL_REDIS_URL}. */
  public String url() {
    return "redis://" + host + ":" + port;
  }

  public static RedisEndpoint parse(String url) {
    URI uri = URI.create(url);
    if (!"redis".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("expected redis://host:port, got '" + url + "'");
    }
    return new RedisEndpoint(uri.getHost(), uri.getPort() == -1 ? 6379 : uri.getPort());
  }
}
