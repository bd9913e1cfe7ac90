package dev.citadel.gateway.apidocs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.web.util.pattern.PathPatternParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class ApiDescriptionsTest {
  static final JsonMapper JSON = JsonMapper.builder().build();

  static ApiDescriptions.Route route(String service, Set<String> methods, String... paths) {
    return new ApiDescriptions.Route(
        Optional.ofNullable(service),
        List.of(paths).stream().map(PathPatternParser.defaultInstance::parse).toList(),
        methods);
  }

  static final List<ApiDescriptions.Route> ROUTES =
      List.of(
          route("members", Set.of(), "/api/members", "/api/members/**"),
          route("members", Set.of("GET"), "/.well-known/jwks.json"),
          route("match", Set.of(), "/api/match/**"),
          route(null, Set.of(), "/ws"));

  static JsonNode doc(String json) {
    return JSON.readTree(json.replace('\'', '"'));
  }

  static final JsonNode MEMBERS =
      doc(
          """
          {'openapi':'3.1.0','paths':{
            '/api/members':{'post':{'operationId':'signUp','tags':['members'],
              'responses':{'200':{'content':{'application/json':{'schema':{'$ref':'#/components/schemas/Me'}}}}}}},
            '/.well-known/jwks.json':{'get':{'operationId':'jwks'},'post':{'operationId':'jwksPost'}},
            '/internal/members/{id}':{'get':{'operationId':'presence',
              'responses':{'200':{'content':{'application/json':{'schema':{'$ref':'#/components/schemas/Presence'}}}}}}},
            '/api/match/odd':{'get':{'operationId':'status'}}},
           'tags':[{'name':'members','description':'accounts'}],
           'components':{'schemas':{
             'Me':{'type':'object','properties':{'seat':{'$ref':'#/components/schemas/Seat'}}},
             'Seat':{'type':'object','properties':{'room':{'type':'string'}}},
             'Presence':{'type':'object'}}}}
          """);

  static final JsonNode MATCH =
      doc(
          """
          {'openapi':'3.1.0','paths':{
            '/api/match/status':{'get':{'operationId':'status',
              'responses':{'200':{'content':{'application/json':{'schema':{'$ref':'#/components/schemas/Seat'}}}}}}},
            '/internal/match/bulk':{'post':{'operationId':'bulk'}}},
           'components':{'schemas':{'Seat':{'type':'object','properties':{'queue':{'type':'string'}}}}}}
          """);

  @Test
  void only_what_the_gateway_routes_to_the_describing_service_is_merged() {
    ObjectNode merged = ApiDescriptions.merge(ROUTES, Map.of("members", MEMBERS, "match", MATCH));

    assertThat(merged.path("paths").propertyNames())
        .containsExactly("/.well-known/jwks.json", "/api/match/status", "/api/members");
    // The method predicate holds: only GET of the keys is routed.
    assertThat(merged.path("paths").path("/.well-known/jwks.json").propertyNames())
        .containsExactly("get");
    assertThat(merged.toString()).doesNotContain("/internal", "Presence");
    assertThat(merged.path("tags").get(0).path("description").asString()).isEqualTo("accounts");
  }

  @Test
  void schemas_come_along_by_reference_and_a_clash_is_told_apart_by_service() {
    ObjectNode merged = ApiDescriptions.merge(ROUTES, Map.of("members", MEMBERS, "match", MATCH));

    JsonNode schemas = merged.path("components").path("schemas");
    assertThat(schemas.propertyNames()).containsExactlyInAnyOrder("Me", "Seat", "MembersSeat");
    // "match" sorts first, so its Seat keeps the name; members' Seat and its referrer are renamed.
    assertThat(schemas.path("Seat").path("properties").has("queue")).isTrue();
    assertThat(schemas.path("MembersSeat").path("properties").has("room")).isTrue();
    assertThat(schemas.path("Me").path("properties").path("seat").path("$ref").asString())
        .isEqualTo("#/components/schemas/MembersSeat");
  }

  @Test
  void a_schema_that_refers_to_a_renamed_one_is_renamed_too() {
    JsonNode a =
        doc(
            """
            {'paths':{'/api/match/a':{'get':{'responses':{'200':{'content':{'application/json':
              {'schema':{'$ref':'#/components/schemas/Outer'}}}}}}}},
             'components':{'schemas':{
               'Outer':{'properties':{'in':{'$ref':'#/components/schemas/Inner'}}},
               'Inner':{'properties':{'x':{'type':'string'}}}}}}
            """);
    JsonNode b =
        doc(
            """
            {'paths':{'/api/members/b':{'get':{'responses':{'200':{'content':{'application/json':
              {'schema':{'$ref':'#/components/schemas/Outer'}}}}}}}},
             'components':{'schemas':{
               'Outer':{'properties':{'in':{'$ref':'#/components/schemas/Inner'}}},
               'Inner':{'properties':{'y':{'type':'string'}}},
               'MembersInner':{'type':'string'}}}}
            """);
    ObjectNode merged = ApiDescriptions.merge(ROUTES, Map.of("match", a, "members", b));

    JsonNode schemas = merged.path("components").path("schemas");
    // match's types keep their names and their meaning.
    assertThat(schemas.path("Outer").path("properties").path("in").path("$ref").asString())
        .isEqualTo("#/components/schemas/Inner");
    assertThat(schemas.path("Inner").path("properties").has("x")).isTrue();
    // members' Outer refers to its own Inner, renamed, so it is renamed as well.
    String outer =
        merged
            .path("paths")
            .path("/api/members/b")
            .path("get")
            .path("responses")
            .path("200")
            .path("content")
            .path("application/json")
            .path("schema")
            .path("$ref")
            .asString();
    assertThat(outer).isEqualTo("#/components/schemas/MembersOuter");
    assertThat(schemas.path("MembersOuter").path("properties").path("in").path("$ref").asString())
        .isEqualTo("#/components/schemas/MembersInner");
    assertThat(schemas.path("MembersInner").path("properties").has("y")).isTrue();
  }

  @Test
  void operation_ids_stay_unique() {
    JsonNode other =
        doc(
            """
            {'paths':{'/api/members/me':{'get':{'operationId':'status'}}}}
            """);
    ObjectNode merged = ApiDescriptions.merge(ROUTES, Map.of("members", other, "match", MATCH));

    assertThat(
            merged
                .path("paths")
                .path("/api/match/status")
                .path("get")
                .path("operationId")
                .asString())
        .isEqualTo("status");
    assertThat(
            merged.path("paths").path("/api/members/me").path("get").path("operationId").asString())
        .isEqualTo("membersStatus");
  }
}
