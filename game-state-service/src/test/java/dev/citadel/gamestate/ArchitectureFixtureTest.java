package dev.citadel.gamestate;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/** Each structure rule fails on a fixture that breaks it: the rules can fail. */
class ArchitectureFixtureTest {
  static final String FIXTURE = "dev.citadel.gamestate.archfixture";

  static JavaClasses fixture() {
    return new ClassFileImporter().importPackages(FIXTURE);
  }

  @Test
  void a_cycle_between_two_packages_is_caught() {
    assertThat(ArchitectureTest.cycleFree(FIXTURE).evaluate(fixture()).hasViolation()).isTrue();
  }

  @Test
  void a_wire_format_in_the_domain_is_caught() {
    assertThat(ArchitectureTest.pure("..archfixture.domain..").evaluate(fixture()).hasViolation())
        .isTrue();
  }

  @Test
  void an_http_status_decided_outside_the_edges_is_caught() {
    assertThat(
            ArchitectureTest.onlyEdgesSee("..archfixture.api..").evaluate(fixture()).hasViolation())
        .isTrue();
  }

  @Test
  void a_feature_building_on_the_api_package_is_caught() {
    assertThat(
            ArchitectureTest.apiUsedOnlyByWiring("..archfixture.api..", "..archfixture.a..")
                .evaluate(fixture())
                .hasViolation())
        .isTrue();
  }

  @Test
  void the_fixture_itself_is_clean_where_it_should_be() {
    // The rules are not blanket failures: an edge package may use HTTP types.
    assertThat(
            ArchitectureTest.onlyEdgesSee("..archfixture.feature..")
                .evaluate(fixture())
                .hasViolation())
        .isFalse();
  }
}
