package dev.citadel.gateway;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The boundaries of the gateway, checked on its main code with no exemption. {@code
 * ArchitectureFixtureTest} shows each rule failing on a fixture that breaks it.
 */
@AnalyzeClasses(
    packages = "dev.citadel.gateway",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** No two feature packages depend on each other, directly or around a loop. */
  static ArchRule cycleFree(String root) {
    return slices().matching(root + ".(*)..").should().beFreeOfCycles();
  }

  @ArchTest static final ArchRule no_package_cycles = cycleFree("dev.citadel.gateway");
}
