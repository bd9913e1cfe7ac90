package dev.citadel.web;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The shared web module's boundaries: its parts do not form a loop, and it knows no service (every
 * service depends on it, never the other way round). {@code ArchitectureFixtureTest} shows the
 * cycle rule failing; the other cannot be broken here (no service is on this module's classpath).
 */
@AnalyzeClasses(packages = "dev.citadel.web", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest static final ArchRule no_package_cycles = cycleFree("dev.citadel.web");

  static ArchRule cycleFree(String root) {
    return slices().matching(root + ".(*)..").should().beFreeOfCycles();
  }

  @ArchTest
  static final ArchRule knows_no_service =
      noClasses()
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.citadel.gamestate..",
              "dev.citadel.match..",
              "dev.citadel.member..",
              "dev.citadel.gateway..");
}
