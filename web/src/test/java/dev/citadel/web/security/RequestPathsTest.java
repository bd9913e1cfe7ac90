package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestPathsTest {
  @Test
  void every_spelling_of_a_path_that_routing_serves_compares_equal() {
    assertThat(RequestPaths.normalize("/api/members/login")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/api/members/%6Cogin")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/api/members/%6c%6F%67%69%6e"))
        .isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("//api//members/login/")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/api/members%2Flogin")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/api/members/login;x=1")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/api;a=b/members;c/login")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/")).isEqualTo("/");
    assertThat(RequestPaths.normalize("/api/members/%zz")).isEqualTo("/api/members/%zz");
  }
}
