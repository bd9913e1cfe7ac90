package dev.citadel.web.logging;

import org.apache.commons.logging.Log;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.MarkerFactory;
import org.slf4j.spi.LocationAwareLogger;

/**
 * One Commons Logging log on an SLF4J logger: the message object is turned into a string only when
 * its level is enabled, and the caller's location (for patterns that print it) is the caller of
 * this log, not this class. FATAL is ERROR, as SLF4J has no FATAL. Every event carries the marker
 * Commons Logging's own bridge gives it ({@code COMMONS-LOGGING}), for patterns and filters that
 * read markers.
 */
final class GuardedLog implements Log {
  private static final String FQCN = GuardedLog.class.getName();
  private static final Marker MARKER = MarkerFactory.getMarker("COMMONS-LOGGING");

  private final Logger logger;
  private final LocationAwareLogger located;

  private GuardedLog(Logger logger) {
    this.logger = logger;
    this.located = logger instanceof LocationAwareLogger l ? l : null;
  }

  static GuardedLog of(String name) {
    return new GuardedLog(LoggerFactory.getLogger(name));
  }

  @Override
  public boolean isTraceEnabled() {
    return logger.isTraceEnabled(MARKER);
  }

  @Override
  public boolean isDebugEnabled() {
    return logger.isDebugEnabled(MARKER);
  }

  @Override
  public boolean isInfoEnabled() {
    return logger.isInfoEnabled(MARKER);
  }

  @Override
  public boolean isWarnEnabled() {
    return logger.isWarnEnabled(MARKER);
  }

  @Override
  public boolean isErrorEnabled() {
    return logger.isErrorEnabled(MARKER);
  }

  @Override
  public boolean isFatalEnabled() {
    return logger.isErrorEnabled(MARKER);
  }

  @Override
  public void trace(Object message) {
    trace(message, null);
  }

  @Override
  public void trace(Object message, Throwable t) {
    if (logger.isTraceEnabled(MARKER)) {
      log(LocationAwareLogger.TRACE_INT, message, t);
    }
  }

  @Override
  public void debug(Object message) {
    debug(message, null);
  }

  @Override
  public void debug(Object message, Throwable t) {
    if (logger.isDebugEnabled(MARKER)) {
      log(LocationAwareLogger.DEBUG_INT, message, t);
    }
  }

  @Override
  public void info(Object message) {
    info(message, null);
  }

  @Override
  public void info(Object message, Throwable t) {
    if (logger.isInfoEnabled(MARKER)) {
      log(LocationAwareLogger.INFO_INT, message, t);
    }
  }

  @Override
  public void warn(Object message) {
    warn(message, null);
  }

  @Override
  public void warn(Object message, Throwable t) {
    if (logger.isWarnEnabled(MARKER)) {
      log(LocationAwareLogger.WARN_INT, message, t);
    }
  }

  @Override
  public void error(Object message) {
    error(message, null);
  }

  @Override
  public void error(Object message, Throwable t) {
    if (logger.isErrorEnabled(MARKER)) {
      log(LocationAwareLogger.ERROR_INT, message, t);
    }
  }

  @Override
  public void fatal(Object message) {
    error(message, null);
  }

  @Override
  public void fatal(Object message, Throwable t) {
    error(message, t);
  }

  private void log(int level, Object message, Throwable t) {
    String text = String.valueOf(message);
    if (located != null) {
      located.log(MARKER, FQCN, level, text, null, t);
      return;
    }
    switch (level) {
      case LocationAwareLogger.TRACE_INT -> logger.trace(MARKER, text, t);
      case LocationAwareLogger.DEBUG_INT -> logger.debug(MARKER, text, t);
      case LocationAwareLogger.INFO_INT -> logger.info(MARKER, text, t);
      case LocationAwareLogger.WARN_INT -> logger.warn(MARKER, text, t);
      default -> logger.error(MARKER, text, t);
    }
  }
}
