package dev.citadel.web.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class GuardedLogFactoryTest {

  @Test
  void commons_logging_chooses_it() {
    assertThat(LogFactory.getFactory()).isInstanceOf(GuardedLogFactory.class);
    assertThat(LogFactory.getLog(GuardedLogFactoryTest.class)).isInstanceOf(GuardedLog.class);
  }

  @Test
  void a_message_is_turned_into_text_only_at_an_enabled_level() {
    var logback = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("guarded.test");
    logback.setLevel(Level.INFO);
    List<String> callers = new CopyOnWriteArrayList<>();
    ListAppender<ILoggingEvent> appender =
        new ListAppender<>() {
          @Override
          protected void append(ILoggingEvent event) {
            // Caller data is read from the stack, so while the call is on it.
            callers.add(event.getCallerData()[0].getClassName());
            super.append(event);
          }
        };
    appender.start();
    logback.addAppender(appender);
    AtomicInteger formatted = new AtomicInteger();
    Object message =
        new Object() {
          @Override
          public String toString() {
            formatted.incrementAndGet();
            return "the message";
          }
        };
    Log log = LogFactory.getLog("guarded.test");

    log.trace(message);
    log.debug(message);
    log.debug(message, new IllegalStateException("not logged"));
    assertThat(formatted).hasValue(0);
    assertThat(appender.list).isEmpty();

    log.info(message);
    log.error(message, new IllegalStateException("logged"));
    log.fatal(message);
    assertThat(formatted).hasValue(3);
    assertThat(appender.list)
        .extracting(ILoggingEvent::getLevel)
        .containsExactly(Level.INFO, Level.ERROR, Level.ERROR);
    assertThat(appender.list.get(1).getThrowableProxy().getMessage()).isEqualTo("logged");
    assertThat(appender.list.get(0).getFormattedMessage()).isEqualTo("the message");
    // The caller's place is the code that logged, not the bridge.
    assertThat(callers).containsOnly(GuardedLogFactoryTest.class.getName());
    // The marker Commons Logging's own bridge sets, for patterns and filters that read it.
    assertThat(appender.list)
        .allSatisfy(
            e ->
                assertThat(e.getMarkerList())
                    .extracting(m -> m.getName())
                    .containsExactly("COMMONS-LOGGING"));
    assertThat(log.isDebugEnabled()).isFalse();
    assertThat(log.isFatalEnabled()).isTrue();
  }
}
