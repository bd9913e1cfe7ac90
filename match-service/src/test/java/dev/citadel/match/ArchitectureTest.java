package dev.citadel.match;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The boundaries of match-service, checked on its main code with no exemption. {@code
 * ArchitectureFixtureTest} shows each rule failing on a fixture that breaks it.
 */
@AnalyzeClasses(
    packages = "dev.citadel.match",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** No two feature packages depend on each other, directly or around a loop. */
  static ArchRule cycleFree(String root) {
    return slices().matching(root + ".(*)..").should().beFreeOfCycles();
  }

  /** Only {@code edges} may use what {@code web} holds (the HTTP layer's own types). */
  static ArchRule onlyEdgesSee(String web, String... edges) {
    String[] allowed = new String[edges.length + 1];
    allowed[0] = web;
    System.arraycopy(edges, 0, allowed, 1, edges.length);
    return noClasses()
        .that()
        .resideOutsideOfPackages(allowed)
        .should()
        .dependOnClassesThat()
        .resideInAPackage(web);
  }

  @ArchTest static final ArchRule no_package_cycles = cycleFree("dev.citadel.match");

  /** The rules of matching (tickets, skill windows, grouping) are pure: no I/O, no framework. */
  static ArchRule pure(String domain) {
    return classes()
        .that()
        .resideInAPackage(domain)
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(domain, "java.lang..", "java.util..");
  }

  @ArchTest static final ArchRule the_domain_is_pure = pure("..match.domain..");

  @ArchTest
  static final ArchRule only_the_http_edges_see_the_api =
      onlyEdgesSee("..match.api..", "..match.bulk..");
}
