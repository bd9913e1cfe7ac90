package dev.citadel.member;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The boundaries of member-service, checked on its main code with no exemption. {@code
 * ArchitectureFixtureTest} shows each rule failing on a fixture that breaks it.
 */
@AnalyzeClasses(
    packages = "dev.citadel.member",
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

  /**
   * HTTP types (requests, statuses) only at the edges: controllers, packages named {@code http},
   * the API's error mapping and the wiring.
   */
  static ArchRule httpOnlyAtEdges(String... edgePackages) {
    return noClasses()
        .that()
        .resideOutsideOfPackages(edgePackages)
        .and()
        .areNotAnnotatedWith(org.springframework.web.bind.annotation.RestController.class)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.springframework.http..", "org.springframework.web..");
  }

  @ArchTest static final ArchRule no_package_cycles = cycleFree("dev.citadel.member");

  @ArchTest
  static final ArchRule only_the_edges_use_http_types =
      httpOnlyAtEdges("..http..", "..member.api..", "..member.config..");

  @ArchTest static final ArchRule only_the_http_edge_sees_the_api = onlyEdgesSee("..member.api..");
}
