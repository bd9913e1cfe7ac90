package dev.citadel.web.logging;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Commons Logging (what Spring and Spring Security log through) on SLF4J, formatting a message only
 * when its level is enabled. Commons Logging's own SLF4J bridge (1.3.x, and 1.4.0) turns every
 * message into a string first and lets SLF4J drop it after: Spring Security writes its debug
 * messages unguarded ({@code logger.debug(LogMessage.format(...))}, several per request), so each
 * request formatted matcher descriptions nobody reads (docs/gateway.md, the profile). Chosen
 * through {@code META-INF/services/org.apache.commons.logging.LogFactory}, which Commons Logging
 * consults before its built-in choice.
 */
public final class GuardedLogFactory extends LogFactory {
  private final Map<String, Log> logs = new ConcurrentHashMap<>();
  private final Map<String, Object> attributes = new ConcurrentHashMap<>();

  @Override
  public Log getInstance(Class<?> clazz) {
    return getInstance(clazz.getName());
  }

  @Override
  public Log getInstance(String name) {
    return logs.computeIfAbsent(name, GuardedLog::of);
  }

  @Override
  public Object getAttribute(String name) {
    return attributes.get(name);
  }

  @Override
  public String[] getAttributeNames() {
    return attributes.keySet().toArray(String[]::new);
  }

  @Override
  public void setAttribute(String name, Object value) {
    if (value == null) {
      attributes.remove(name);
    } else {
      attributes.put(name, value);
    }
  }

  @Override
  public void removeAttribute(String name) {
    attributes.remove(name);
  }

  @Override
  public void release() {
    logs.clear();
  }
}
