package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/** Each structure rule fails on a fixture that breaks it: the rules can fail. */
class ArchitectureFixtureTest {
  static final String FIXTURE = "dev.citadel.gateway.archfixture";

  static JavaClasses fixture() {
    return new ClassFileImporter().importPackages(FIXTURE);
  }

  @Test
  void a_cycle_between_two_packages_is_caught() {
    assertThat(ArchitectureTest.cycleFree(FIXTURE).evaluate(fixture()).hasViolation()).isTrue();
  }
}
