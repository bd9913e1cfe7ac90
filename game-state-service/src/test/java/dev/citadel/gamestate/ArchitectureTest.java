package dev.citadel.gamestate;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * The boundaries the design depends on, with no exemption: each rule is a static method so that
 * {@code ArchitectureFixtureTest} shows it failing on a fixture that breaks it.
 */
@AnalyzeClasses(
    packages = "dev.citadel.gamestate",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  static final String ROOT = "dev.citadel.gamestate";

  @ArchTest static final ArchRule no_package_cycles = cycleFree(ROOT);

  @ArchTest static final ArchRule the_player_domain_is_pure = pure("..gamestate.player..");

  /** The generic host knows no domain type. */
  @ArchTest
  static final ArchRule the_aggregate_host_knows_no_domain =
      noClasses()
          .that()
          .resideInAPackage("..gamestate.aggregate..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("..gamestate.player..", "..gamestate.api..", "org.springframework..");

  /** A feature's HTTP adapters live in a package named {@code http} (its own or the shared one). */
  @ArchTest
  static final ArchRule only_the_edges_use_web_types =
      onlyEdgesSee("..http..", "..gamestate.config..", "..gamestate.notifications..");

  @ArchTest
  static final ArchRule features_do_not_depend_on_the_api_package =
      apiUsedOnlyByWiring("..gamestate.api..", "..gamestate.config..");

  /** The player API's controllers are an edge: no feature builds on them. */
  static ArchRule apiUsedOnlyByWiring(String api, String wiring) {
    return noClasses()
        .that()
        .resideOutsideOfPackages(api, wiring)
        .should()
        .dependOnClassesThat()
        .resideInAPackage(api);
  }

  /** Features depend on each other one way only. */
  static ArchRule cycleFree(String root) {
    return slices().matching(root + ".(*)..").should().beFreeOfCycles();
  }

  /** decide/evolve stay pure: no framework, no I/O, no clock, no wire format. */
  static ArchRule pure(String domain) {
    return noClasses()
        .that()
        .resideInAPackage(domain)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.springframework..",
            "reactor..",
            "io.r2dbc..",
            "io.lettuce..",
            "java.net..",
            "com.google.protobuf..",
            "dev.citadel.protocol..")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("java.time.Clock");
  }

  /**
   * HTTP types (requests, statuses, clients) only at the edges: controllers (which live in their
   * feature's package), the shared HTTP package, the WebSocket, the wiring.
   */
  static ArchRule onlyEdgesSee(String... edgePackages) {
    return noClasses()
        .that()
        .resideOutsideOfPackages(edgePackages)
        .and()
        .areNotAnnotatedWith(RestController.class)
        .and()
        .areNotAnnotatedWith(RestControllerAdvice.class)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.springframework.web..", "org.springframework.http..", "org.springframework.web");
  }
}
