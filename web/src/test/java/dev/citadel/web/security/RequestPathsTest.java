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
    assertThat(RequestPaths.normalize("/api/members/login/")).isEqualTo("/api/members/login");
    assertThat(RequestPaths.normalize("/api/members/%2F")).isEqualTo("/api/members");
    assertThat(RequestPaths.normalize("")).isEqualTo("");
  }

  @Test
  void a_path_in_normal_form_is_the_same_string_and_only_such_a_path_skips_the_work() {
    String usual = "/api/game/players/7f1e0c9a-0b7e-4d57-9d2c-6f1f1b1f2a3c";
    assertThat(RequestPaths.normalize(usual)).isSameAs(usual);
    assertThat(RequestPaths.normal("/")).isTrue();
    for (String odd : new String[] {"/a;x=1", "/a/%6C", "//a", "/a//b", "/a/", "/a%2F"}) {
      assertThat(RequestPaths.normal(odd)).as(odd).isFalse();
      assertThat(RequestPaths.normalize(RequestPaths.normalize(odd)))
          .as(odd)
          .isEqualTo(RequestPaths.normalize(odd));
    }
  }
}
