package dev.citadel.infra.platform;

import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * Runs Citadel locally: real PostgreSQL, Redis and Kafka, then every service module that has been
 * built, each in its own JVM on a fixed port. Ctrl-C (or SIGTERM) stops everything.
 *
 * <p>Options: {@code --free-ports} (infrastructure on free ports instead of the fixed ones), {@code
 * --exit-when-healthy} (stop again as soon as everything is up; used by tests and CI), {@code
 * --loadtest} (match-service with its bulk endpoint, gateway rate limits raised for one client
 * address), {@code --images} (every service from its container image, see {@link Launch}), {@code
 * --relaxed} (PostgreSQL without fsync: durable otherwise), {@code --clean} (remove the run
 * directory with the logs on stop; kept otherwise). Services that die are restarted with back-off.
 *
 * <p>Also a library: the load test starts and stops the platform with {@link #start(Options)}.
 *
 * <p>Why one class of this size: it is the platform's start-up script in Java, one ordered sequence
 * (infrastructure, secrets, each service with its environment, health waits, restarts); the
 * per-process work is already {@link ServiceProcess}'s, and what remains reads top to bottom.
 */
public final class LocalPlatform {

  /**
   * How to start.
   *
   * @param ports fixed (the documented ones) or free ports for the infrastructure
   * @param loadtest the {@code loadtest} profile for match-service and high gateway rate limits
   * @param prometheus start Prometheus on 9090 when a binary is on the PATH
   * @param kafkaBrokers how many Kafka brokers (1; 3 for runs that stop one)
   * @param startupCache start services from Class Data Sharing archives ({@link StartupCache}), one
   *     per module (the launcher's under {@code target/startup-cache}; a test's, see {@link
   *     LocalPlatform#forTests}, shared with the tests' service processes)
   */
  public record Options(
      Infrastructure.Ports ports,
      boolean loadtest,
      boolean prometheus,
      boolean supervise,
      boolean clean,
      int kafkaBrokers,
      Launch launch,
      boolean durable,
      boolean startupCache) {
    public Options(
        Infrastructure.Ports ports,
        boolean loadtest,
        boolean prometheus,
        boolean supervise,
        boolean clean) {
      this(ports, loadtest, prometheus, supervise, clean, 1, Launch.JARS, false, false);
    }

    public Options(
        Infrastructure.Ports ports,
        boolean loadtest,
        boolean prometheus,
        boolean supervise,
        boolean clean,
        int kafkaBrokers) {
      this(ports, loadtest, prometheus, supervise, clean, kafkaBrokers, Launch.JARS, false, false);
    }

    /** The same platform with its services started from their images. */
    public Options fromImages() {
      return new Options(
          ports,
          loadtest,
          prometheus,
          supervise,
          clean,
          kafkaBrokers,
          Launch.IMAGES,
          durable,
          startupCache);
    }

    /** The same platform on a durable PostgreSQL ({@link InfraSettings#POSTGRES_DURABLE}). */
    public Options durablePostgres() {
      return new Options(
          ports, loadtest, prometheus, supervise, clean, kafkaBrokers, launch, true, startupCache);
    }

    /** The same platform with services started from Class Data Sharing archives. */
    public Options withStartupCache() {
      return new Options(
          ports, loadtest, prometheus, supervise, clean, kafkaBrokers, launch, durable, true);
    }

    /**
     * For tests and tools that run the platform as a library: nothing restarted behind their back
     * (a fault test kills services on purpose), the run directory removed on stop (copy the logs
     * first with {@link LocalPlatform#copyLogs}).
     */
    public Options(Infrastructure.Ports ports, boolean loadtest, boolean prometheus) {
      this(ports, loadtest, prometheus, false, true);
    }

    /** The launcher's: services restarted when they die, logs kept unless {@code --clean}. */
    static Options parse(List<String> args) {
      boolean free = args.contains("--free-ports");
      Options options =
          new Options(
              free ? Infrastructure.Ports.FREE : FIXED_PORTS,
              args.contains("--loadtest"),
              !free,
              true,
              args.contains("--clean"));
      options = args.contains("--images") ? options.fromImages() : options.withStartupCache();
      // The launcher's database is durable, as in production, unless --relaxed.
      return args.contains("--relaxed") ? options : options.durablePostgres();
    }
  }

  /** How the services are started. */
  public enum Launch {
    /** Each module's runnable jar in a JVM of its own. */
    JARS,
    /**
     * Each module's container image ({@code citadel/MODULE:VERSION}, built by {@code
     * deploy/images/build-images.sh}) with Podman, as the manifests run it; ready when the
     * manifests' readiness probe path answers.
     */
    IMAGES
  }

  /** The manifests' readiness probe path (k8s/base). */
  public static final String READINESS_PATH = "/actuator/health/readiness";

  /**
   * match-service in load tests: the bulk endpoint, and (as the matchmaking benchmark) any spread
   * accepted after 10 s of waiting instead of 60 s, so the few players far from everyone do not set
   * a 100,000-player run's wall time.
   */
  static final Map<String, String> LOADTEST_MATCH =
      Map.of("SPRING_PROFILES_ACTIVE", "loadtest", "CITADEL_MATCH_WINDOW_MAXWAIT", "10s");

  /**
   * member-service in load tests: bcrypt at cost 6 instead of 10. Every virtual player signs up and
   * logs in within seconds; at full cost two cores spend the whole run hashing passwords and the
   * run measures bcrypt instead of the platform (the report says which cost ran). Every virtual
   * player comes from 127.0.0.1, so one address's share of bcrypt is lifted, as the gateway's rate
   * limits are.
   */
  public static final String LOADTEST_BCRYPT_STRENGTH = "6";

  static final Map<String, String> LOADTEST_MEMBER =
      Map.of(
          "CITADEL_MEMBERS_BCRYPTSTRENGTH",
          LOADTEST_BCRYPT_STRENGTH,
          "CITADEL_LOGIN_BCRYPTPERADDRESS",
          "100000");

  /** Gateway rate limits in load tests: every virtual player comes from 127.0.0.1. */
  static final Map<String, String> LOADTEST_GATEWAY =
      Map.of("CITADEL_RATE_LIMIT_PER_SECOND", "100000", "CITADEL_RATE_LIMIT_BURST", "100000");

  /** Where the local Prometheus listens, when one is on the PATH. */
  public static final int PROMETHEUS_PORT = 9090;

  private Process prometheus;

  /** Both game-state instances, as the gateway routes to them (two-phase commit uses the list). */
  static final String GAME_STATE_URLS = "http://127.0.0.1:8083,http://127.0.0.1:8084";

  private static ServiceSpec gameState(String name, int port) {
    return new ServiceSpec(
        name,
        "game-state-service",
        port,
        port + 1000,
        "game_state",
        Map.of(
            "CITADEL_GAME_STATE_URLS",
            GAME_STATE_URLS,
            "CITADEL_SELF_URL",
            "http://127.0.0.1:" + port));
  }

  /** Each service on its port, its health and metrics on the port 1000 above. */
  static final List<ServiceSpec> SERVICES =
      List.of(
          new ServiceSpec("member", "member-service", 8081, 9081, "member", Map.of()),
          gameState("game-state-a", 8083),
          gameState("game-state-b", 8084),
          new ServiceSpec("match", "match-service", 8082, 9082, null, Map.of()),
          new ServiceSpec("gateway", "gateway", 8080, 9080, null, Map.of()));

  /** Which registered client each module is. */
  static final Map<String, String> CLIENT_OF =
      Map.of(
          "game-state-service",
          "game-state",
          "match-service",
          "match-service",
          "gateway",
          "gateway");

  public static final Infrastructure.Ports FIXED_PORTS = new Infrastructure.Ports(15432, 16379);
  private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration STOP_GRACE = Duration.ofSeconds(20);

  /** With the start-up cache a first run's JVMs write their archives as they stop: all at once. */
  private static final Duration STOP_GRACE_WRITING_ARCHIVES = Duration.ofSeconds(60);

  private final Path root;
  private final Path runDir;
  private final Path dataDir;
  private final StartupCache startupCache;

  /** JVM options of every service besides the usual ones (a test's platform: C1 only). */
  private final List<String> jvmOptions;

  private Credentials credentials;
  private final List<ServiceProcess> running = new ArrayList<>();
  private final Map<String, Long> startedAt = new LinkedHashMap<>();
  private final Map<String, Duration> readyAfter = new LinkedHashMap<>();
  private final Map<String, String> images = new LinkedHashMap<>();
  private Infrastructure infra;
  private Supervisor supervisor;
  private boolean clean = true;
  private Duration stopGrace = STOP_GRACE;

  /** A service as the supervisor sees it. */
  private record Watched(ServiceProcess process) implements Supervisor.Supervised {
    @Override
    public String name() {
      return process.spec().name();
    }

    @Override
    public java.util.concurrent.CompletableFuture<Integer> exited() {
      return process.exited();
    }

    @Override
    public Supervisor.Supervised restart() {
      return new Watched(process.restart());
    }

    @Override
    public void awaitHealthy() throws InterruptedException {
      process.awaitHealthy(HEALTH_TIMEOUT);
    }

    @Override
    public String logName() {
      return process.log().toString();
    }
  }

  /** Whether services start from the cache: asked for, and not a test platform benchmarking. */
  private boolean cached(Options options) {
    return options.startupCache() && startupCache != null;
  }

  /** A platform running the modules built under {@code root} (the repository). */
  public static LocalPlatform at(Path root) {
    Path normalized = root.toAbsolutePath().normalize();
    return new LocalPlatform(
        normalized, normalized.resolve("target").resolve("startup-cache"), List.of());
  }

  /**
   * The same for a test: its start-up cache (if {@link Options#withStartupCache}) is the tests' one
   * ({@link ServiceLaunch#testsStartupCache}), so a build never removes the extracted jars a
   * running launcher uses, and its services run C1 only, as every service a test starts; under
   * {@code -Pbenchmark} ({@link ServiceLaunch#benchmarking}) C2 and no archive, as the launcher's
   * default.
   */
  public static LocalPlatform forTests(Path root) {
    Path normalized = root.toAbsolutePath().normalize();
    return new LocalPlatform(
        normalized,
        ServiceLaunch.benchmarking() ? null : ServiceLaunch.testsStartupCache(normalized),
        ServiceLaunch.testJvmOptions());
  }

  LocalPlatform(Path root) {
    this(root, root.resolve("target").resolve("startup-cache"), List.of());
  }

  private LocalPlatform(Path root, Path startupCache, List<String> jvmOptions) {
    this.root = root;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.runDir = root.resolve(".platform");
    this.dataDir = root.resolve(".citadel");
    this.startupCache =
        startupCache == null ? null : new StartupCache(startupCache, LocalPlatform::println);
  }

  public static void main(String[] args) throws InterruptedException {
    List<String> options = List.of(args);
    Path root = Path.of(System.getProperty("citadel.root", ".")).toAbsolutePath().normalize();
    if (!options.isEmpty() && options.get(0).equals("dead-letters")) {
      String bootstrap =
          runningEnvironment(root).get(dev.citadel.infra.InfraSettings.KAFKA_BOOTSTRAP_SERVERS);
      System.exit(
          dev.citadel.infra.kafka.DeadLetters.run(
              options.subList(1, options.size()), bootstrap, System.out));
    }
    LocalPlatform platform = new LocalPlatform(root);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  platform.stop();
                  stopped.countDown();
                },
                "citadel-platform-stop"));
    try {
      platform.start(Options.parse(options));
    } catch (RuntimeException e) {
      System.err.println("Citadel failed to start: " + e.getMessage());
      for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
        System.err.println("  caused by: " + cause);
      }
      System.exit(1);
    }
    if (options.contains("--exit-when-healthy")) {
      System.exit(0); // runs the shutdown hook
    }
    System.out.println("Press Ctrl-C to stop.");
    stopped.await();
  }

  /** Starts everything and waits until every service is healthy; throws if one is not. */
  public synchronized void start(Options options) {
    long launched = System.nanoTime();
    prepareRunDir();
    clean = options.clean();
    stopGrace = cached(options) ? STOP_GRACE_WRITING_ARCHIVES : STOP_GRACE;
    credentials = Credentials.in(dataDir);
    println("Starting PostgreSQL, Redis and Kafka ...");
    infra =
        Infrastructure.start(
            options.durable()
                    && (System.getenv(InfraSettings.POSTGRES_DURABLE) == null
                        || System.getenv(InfraSettings.POSTGRES_DURABLE).isBlank())
                ? InfraSettings.fromEnvironment().withPostgresDurable(true)
                : InfraSettings.fromEnvironment(),
            options.ports(),
            options.kafkaBrokers());
    Map<String, String> env = new LinkedHashMap<>(infra.environment());
    infra.describe().forEach(line -> println("  " + line));
    Duration infraUp = Duration.ofNanos(System.nanoTime() - launched);

    for (ServiceSpec spec : SERVICES) {
      Optional<Path> jar = ServiceLaunch.jarOf(root, spec.module());
      if (jar.isEmpty()) {
        println("  (skipping " + spec.name() + ": " + spec.module() + " is not built)");
        continue;
      }
      Readiness.requireFree(spec);
      Map<String, String> serviceEnv = new LinkedHashMap<>(env);
      if (options.loadtest() && spec.module().equals("match-service")) {
        serviceEnv.putAll(LOADTEST_MATCH);
      }
      if (options.loadtest() && spec.module().equals("gateway")) {
        serviceEnv.putAll(LOADTEST_GATEWAY);
      }
      if (options.loadtest() && spec.module().equals("member-service")) {
        serviceEnv.putAll(LOADTEST_MEMBER);
      }
      if (spec.module().equals("member-service")) {
        serviceEnv.putAll(credentials.memberEnv());
      }
      if (CLIENT_OF.containsKey(spec.module())) {
        serviceEnv.putAll(credentials.clientEnv(CLIENT_OF.get(spec.module())));
      }
      if (spec.database() != null) {
        // Each service owns its database: its journal and outbox see only its own events.
        serviceEnv.put(
            InfraSettings.POSTGRES_URL,
            infra.postgresServer().createDatabase(spec.database()).url());
      }
      running.add(
          switch (options.launch()) {
            case JARS -> {
              StartupCache.Launch cached =
                  cached(options)
                      ? startupCache.launch(spec.module(), jar.get())
                      : new StartupCache.Launch(jar.get(), List.of());
              yield ServiceProcess.start(spec, cached.after(jvmOptions), serviceEnv, runDir);
            }
            case IMAGES -> {
              images.put(spec.name(), imageOf(spec.module(), jar.get()));
              yield ServiceProcess.startImage(spec, images.get(spec.name()), serviceEnv, runDir);
            }
          });
      startedAt.put(spec.name(), System.nanoTime());
    }
    String healthPath =
        switch (options.launch()) {
          case JARS -> "/actuator/health";
          case IMAGES -> READINESS_PATH;
        };
    readyAfter.putAll(Readiness.awaitAll(running, startedAt, healthPath, HEALTH_TIMEOUT));
    for (ServiceProcess service : running) {
      println(
          String.format(
              "  %-14s http://127.0.0.1:%d  (pid %d, log %s, healthy %s after launch)",
              service.spec().name(),
              service.spec().port(),
              service.pid(),
              root.relativize(service.log()),
              seconds(readyAfter.get(service.spec().name()))));
    }
    println(
        "Start-up: infrastructure "
            + seconds(infraUp)
            + ", every service healthy "
            + seconds(Duration.ofNanos(System.nanoTime() - launched))
            + " after launch (services start together)");
    if (options.prometheus()) {
      startPrometheus(); // its config scrapes the services' fixed ports
    }
    if (options.supervise()) {
      supervisor =
          new Supervisor(LocalPlatform::println, Supervisor.FIRST_BACKOFF, Supervisor.MAX_BACKOFF);
      running.forEach(service -> supervisor.watch(new Watched(service)));
      println("Services that die are restarted (with back-off) and said so here.");
    }
    writeEnvironment(env);
    println("Citadel is up: " + running.size() + " service(s); infrastructure environment:");
    env.forEach((k, v) -> println("  " + k + "=" + v));
    if (options.loadtest()) {
      println("  CITADEL_CLIENT_SECRET_LOADTEST=" + credentials.secret("loadtest"));
    }
    println("A local game server gets its service token (5 minutes) with:");
    println(
        "  curl -s -u game-server:"
            + credentials.secret("game-server")
            + " -d grant_type=client_credentials -d audience=game-state"
            + " http://127.0.0.1:8081/oauth2/token");
  }

  static final String ENVIRONMENT_FILE = "environment.properties";

  /** Where tools run beside the platform ({@code ./dead-letters.sh}) find its infrastructure. */
  private void writeEnvironment(Map<String, String> env) {
    java.util.Properties p = new java.util.Properties();
    p.putAll(env);
    try (var out = Files.newBufferedWriter(runDir.resolve(ENVIRONMENT_FILE))) {
      p.store(out, "the running local platform's infrastructure (removed when it stops)");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + ENVIRONMENT_FILE, e);
    }
  }

  /** The infrastructure of the platform running from {@code root}, or nothing if none runs. */
  static Map<String, String> runningEnvironment(Path root) {
    Path file = root.resolve(".platform").resolve(ENVIRONMENT_FILE);
    if (!Files.exists(file)) {
      return Map.of();
    }
    java.util.Properties p = new java.util.Properties();
    try (var in = Files.newBufferedReader(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    Map<String, String> env = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> env.put(k, p.getProperty(k)));
    return env;
  }

  /** A registered client's secret for this run (the load test is the client {@code loadtest}). */
  public synchronized String clientSecret(String client) {
    if (credentials == null) {
      throw new IllegalStateException("not started");
    }
    return credentials.secret(client);
  }

  /**
   * Prometheus on 9090 with infra/prometheus/prometheus.yml, when a {@code prometheus} binary is on
   * the PATH (Debian: apt-get install prometheus); otherwise a hint.
   */
  private void startPrometheus() {
    Optional<Path> binary =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
            .map(dir -> Path.of(dir, "prometheus"))
            .filter(Files::isExecutable)
            .findFirst();
    Path config = root.resolve("infra/prometheus/prometheus.yml");
    if (binary.isEmpty() || !Files.exists(config)) {
      println("  (no prometheus on the PATH: metrics at /actuator/prometheus of each service)");
      return;
    }
    try {
      prometheus =
          new ProcessBuilder(
                  binary.get().toString(),
                  "--config.file=" + config,
                  "--storage.tsdb.path=" + runDir.resolve("prometheus-data"),
                  "--web.listen-address=127.0.0.1:" + PROMETHEUS_PORT)
              .redirectErrorStream(true)
              .redirectOutput(runDir.resolve("prometheus.log").toFile())
              .start();
      println(
          "  prometheus     http://127.0.0.1:"
              + PROMETHEUS_PORT
              + "  (pid "
              + prometheus.pid()
              + ")");
    } catch (IOException e) {
      println("  (prometheus did not start: " + e.getMessage() + ")");
    }
  }

  /**
   * The image of a module, for the version its jar was built at: {@code citadel/MODULE:VERSION}
   * (the name the root POM gives Jib and k8s/base uses).
   */
  static String imageOf(String module, Path jar) {
    String name = jar.getFileName().toString();
    String version = name.substring(module.length() + 1, name.length() - "-exec.jar".length());
    return "citadel/" + module + ":" + version;
  }

  private static String seconds(Duration d) {
    return d == null ? "?" : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  /**
   * How long each service took from its start to its first healthy answer (started one after the
   * other, all starting at once: on two cores they compete for the CPU).
   */
  public synchronized Map<String, Duration> readyAfter() {
    return Map.copyOf(readyAfter);
  }

  /** The image each service was started from (none when started from jars). */
  public synchronized Map<String, String> images() {
    return Map.copyOf(images);
  }

  /** The environment the services were given (infrastructure endpoints). */
  public synchronized Map<String, String> environment() {
    if (infra == null) {
      throw new IllegalStateException("not started");
    }
    return infra.environment();
  }

  /** Copies every service's log (and Prometheus's) to {@code dir}, e.g. into a report. */
  public synchronized void copyLogs(Path dir) {
    try (Stream<Path> logs = Files.list(runDir)) {
      Files.createDirectories(dir);
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        Files.copy(
            log, dir.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not copy the logs to " + dir, e);
    }
  }

  /** True if Prometheus was started on {@value #PROMETHEUS_PORT}. */
  public synchronized boolean prometheusRunning() {
    return prometheus != null && prometheus.isAlive();
  }

  /**
   * Kills a service as a crash would (SIGKILL, no shutdown); a supervised platform notices and
   * starts it again. For fault runs.
   */
  public synchronized void kill(String service) {
    List<ServiceProcess> now = new ArrayList<>();
    if (supervisor != null) {
      supervisor.current().forEach(w -> now.add(((Watched) w).process()));
    } else {
      now.addAll(running);
    }
    ServiceProcess target =
        now.stream()
            .filter(p -> p.spec().name().equals(service))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no service " + service));
    target.kill();
  }

  /** The infrastructure this platform started (to stop a Kafka broker in a fault run). */
  public synchronized Infrastructure infrastructure() {
    if (infra == null) {
      throw new IllegalStateException("not started");
    }
    return infra;
  }

  /**
   * Stops every service, Prometheus and the infrastructure. The services' logs stay in {@code
   * .platform/} unless the platform was started with {@code clean}.
   */
  public synchronized void stop() {
    if (infra == null && running.isEmpty()) {
      return;
    }
    println("Stopping Citadel ...");
    if (supervisor != null) {
      // The processes running now, including any a restart started since.
      List<ServiceProcess> now = new ArrayList<>();
      supervisor.stop().forEach(w -> now.add(((Watched) w).process()));
      running.clear();
      running.addAll(now);
      supervisor = null;
    }
    if (prometheus != null) {
      prometheus.destroy();
      try {
        prometheus.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      prometheus.destroyForcibly();
      prometheus = null;
    }
    List<ServiceProcess> stopping = reversed(running);
    stopping.forEach(ServiceProcess::signalStop);
    stopping.forEach(service -> service.awaitStopped(stopGrace));
    running.clear();
    if (infra != null) {
      infra.close();
      infra = null;
    }
    if (clean) {
      deleteRecursively(runDir);
    } else {
      try {
        Files.deleteIfExists(runDir.resolve(ENVIRONMENT_FILE)); // nothing runs any more
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      println("Logs kept in " + runDir + " (--clean removes them on stop).");
    }
    println("Stopped.");
  }

  private static <T> List<T> reversed(List<T> list) {
    List<T> copy = new ArrayList<>(list);
    java.util.Collections.reverse(copy);
    return copy;
  }

  /** A fresh run directory; the last run's logs move to {@code previous/} (one run back). */
  private void prepareRunDir() {
    Path previous = runDir.resolve("previous");
    deleteRecursively(previous);
    try {
      Files.createDirectories(previous);
      try (Stream<Path> files = Files.list(runDir)) {
        for (Path file : files.filter(p -> !p.equals(previous)).toList()) {
          if (file.toString().endsWith(".log")) {
            Files.move(file, previous.resolve(file.getFileName()));
          } else {
            deleteRecursively(file);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + dir, e);
    }
  }

  private static void println(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
