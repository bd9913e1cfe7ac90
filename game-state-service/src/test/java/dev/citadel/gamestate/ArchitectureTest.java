package dev.citadel.gamestate;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The boundaries the design depends on. */
@AnalyzeClasses(
    packages = "dev.citadel.gamestate",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** Features depend on each other one way only. */
  @ArchTest
  static final ArchRule no_package_cycles =
      slices().matching("dev.citadel.gamestate.(*)..").should().beFreeOfCycles();

  /** decide/evolve stay pure: no framework, no I/O, no clock. */
  @ArchTest
  static final ArchRule the_player_domain_does_no_io =
      noClasses()
          .that()
          .resideInAPackage("..gamestate.player..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "org.springframework..", "reactor..", "io.r2dbc..", "io.lettuce..", "java.net..")
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName("java.time.Clock");

  /** The generic host knows no domain type. */
  @ArchTest
  static final ArchRule the_aggregate_host_knows_no_domain =
      noClasses()
          .that()
          .resideInAPackage("..gamestate.aggregate..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("..gamestate.player..", "..gamestate.api..", "org.springframework..");

  /** Only the edges (HTTP API, WebSocket) and the wiring talk HTTP. */
  @ArchTest
  static final ArchRule only_the_edges_use_web_types =
      noClasses()
          .that()
          .resideOutsideOfPackages(
              "..gamestate.api..",
              "..gamestate.http..",
              "..gamestate.notifications..",
              "..gamestate.config..",
              // HTTP edges too: the participant protocol between instances, gifts, friends,
              // match results
              "..gamestate.transactions..",
              "..gamestate.results..",
              "..gamestate.gifts..",
              "..gamestate.friends..",
              "..gamestate.grants..",
              "..gamestate.shop..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("org.springframework.web..", "org.springframework.http..");
}
