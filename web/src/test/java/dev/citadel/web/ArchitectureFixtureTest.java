package dev.citadel.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/** The structure rule fails on a fixture that breaks it. */
class ArchitectureFixtureTest {
  static final String FIXTURE = "dev.citadel.web.archfixture";

  @Test
  void a_cycle_between_two_packages_is_caught() {
    assertThat(
            ArchitectureTest.cycleFree(FIXTURE)
                .evaluate(new ClassFileImporter().importPackages(FIXTURE))
                .hasViolation())
        .isTrue();
  }
}
