package dev.citadel.member;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/** Each structure rule fails on a fixture that breaks it: the rules can fail. */
class ArchitectureFixtureTest {
  static final String FIXTURE = "dev.citadel.member.archfixture";

  static JavaClasses fixture() {
    return new ClassFileImporter().importPackages(FIXTURE);
  }

  @Test
  void a_cycle_between_two_packages_is_caught() {
    assertThat(ArchitectureTest.cycleFree(FIXTURE).evaluate(fixture()).hasViolation()).isTrue();
  }

  @Test
  void the_web_layer_used_outside_the_edges_is_caught() {
    assertThat(
            ArchitectureTest.onlyEdgesSee("..archfixture.a..", "..archfixture.edge..")
                .evaluate(fixture())
                .hasViolation())
        .isTrue();
  }

  @Test
  void an_http_status_decided_outside_the_edges_is_caught() {
    assertThat(
            ArchitectureTest.httpOnlyAtEdges("..archfixture.a..")
                .evaluate(fixture())
                .hasViolation())
        .isTrue();
    assertThat(
            ArchitectureTest.httpOnlyAtEdges("..archfixture.feature..")
                .evaluate(fixture())
                .hasViolation())
        .isFalse();
  }
}
