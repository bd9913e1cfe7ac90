package dev.citadel.gateway.apidocs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One description of the public API out of the services' own (pure): an operation is in it when the
 * gateway's route for its path and method leads to the service that described it, so internal
 * routes, and anything a service describes that the gateway would send elsewhere, stay out. Schemas
 * come along only when an included operation refers to them (directly or through other schemas);
 * two services' schemas of one name but different content are told apart by the service's name.
 */
public final class ApiDescriptions {
  static final String SCHEMA_REF = "#/components/schemas/";
  static final Set<String> METHODS =
      Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");

  /**
   * One gateway route, in the gateway's order: the service it leads to (empty: a route with no
   * description, such as the WebSocket), its path patterns, its methods (empty: any).
   */
  public record Route(Optional<String> service, List<PathPattern> paths, Set<String> methods) {
    public Route {
      paths = List.copyOf(paths);
      methods = Set.copyOf(methods.stream().map(m -> m.toLowerCase(Locale.ROOT)).toList());
    }

    boolean matches(String path, String method) {
      PathContainer container = PathContainer.parsePath(path);
      return (methods.isEmpty() || methods.contains(method))
          && paths.stream().anyMatch(p -> p.matches(container));
    }
  }

  private ApiDescriptions() {}

  /** The service the gateway sends this request to, if any route takes it. */
  static Optional<String> routedTo(List<Route> routes, String path, String method) {
    return routes.stream().filter(r -> r.matches(path, method)).findFirst().flatMap(Route::service);
  }

  /**
   * @param routes the gateway's routes, in order
   * @param described each service's own description, by service name
   */
  public static ObjectNode merge(List<Route> routes, Map<String, JsonNode> described) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    Map<String, JsonNode> paths = new TreeMap<>();
    Map<String, JsonNode> schemas = new TreeMap<>();
    Map<String, JsonNode> tags = new TreeMap<>();
    Set<String> operationIds = new HashSet<>();
    String version = "3.1.0";
    for (Map.Entry<String, JsonNode> entry : new TreeMap<>(described).entrySet()) {
      String service = entry.getKey();
      JsonNode doc = entry.getValue();
      version = doc.path("openapi").asString(version);
      Map<String, ObjectNode> ops = publicOperations(routes, service, doc);
      JsonNode own = doc.path("components").path("schemas");
      Map<String, String> renames =
          names(service, referencedSchemas(ops.values(), own), own, schemas);
      renames.forEach((name, as) -> schemas.put(as, renamed(own.path(name), renames)));
      ops.forEach(
          (key, op) -> {
            int split = key.indexOf(' ');
            String method = key.substring(0, split);
            String path = key.substring(split + 1);
            ObjectNode copy = (ObjectNode) renamed(op, renames);
            String id = copy.path("operationId").asString("");
            if (!id.isEmpty() && !operationIds.add(id)) {
              String unique = qualified(service, id);
              copy.put(
                  "operationId", Character.toLowerCase(unique.charAt(0)) + unique.substring(1));
              operationIds.add(copy.path("operationId").asString());
            }
            ((ObjectNode) paths.computeIfAbsent(path, p -> f.objectNode())).set(method, copy);
            copy.path("tags").forEach(t -> tags.putIfAbsent(t.asString(), tag(doc, t.asString())));
          });
    }
    ObjectNode merged = f.objectNode();
    merged.put("openapi", version);
    merged
        .putObject("info")
        .put("title", "Citadel API")
        .put("version", "1")
        .put(
            "description",
            "The public routes of every Citadel service, as the gateway serves them. Identity"
                + " comes from the bearer token (POST /api/members/login); WebSocket notifications"
                + " and Kafka topics are described in docs/api.md.");
    merged.putArray("security").addObject().putArray("bearer");
    ArrayNode tagList = merged.putArray("tags");
    tags.values().forEach(tagList::add);
    ObjectNode pathsNode = merged.putObject("paths");
    paths.forEach(pathsNode::set);
    ObjectNode components = merged.putObject("components");
    components
        .putObject("securitySchemes")
        .putObject("bearer")
        .put("type", "http")
        .put("scheme", "bearer")
        .put("bearerFormat", "JWT");
    ObjectNode schemaNode = components.putObject("schemas");
    schemas.forEach(schemaNode::set);
    return merged;
  }

  /**
   * The name each of a service's schemas takes in the merged description: its own, unless that name
   * is taken by a schema that differs from it once its references are renamed too (a schema that
   * refers to a renamed one differs, so renaming spreads until nothing changes); a qualified name
   * that is taken as well gets a number.
   */
  static Map<String, String> names(
      String service, Set<String> wanted, JsonNode own, Map<String, JsonNode> taken) {
    Map<String, String> renames = new HashMap<>();
    wanted.forEach(name -> renames.put(name, name));
    boolean changed = true;
    while (changed) {
      changed = false;
      for (String name : wanted) {
        if (!renames.get(name).equals(name)) {
          continue;
        }
        JsonNode there = taken.get(name);
        if (there != null && !there.equals(renamed(own.path(name), renames))) {
          String as = qualified(service, name);
          for (int n = 2; taken.containsKey(as) || renames.containsValue(as); n++) {
            as = qualified(service, name) + n;
          }
          renames.put(name, as);
          changed = true;
        }
      }
    }
    return renames;
  }

  /** "method path" -> operation, for each operation the gateway routes to this service. */
  static Map<String, ObjectNode> publicOperations(
      List<Route> routes, String service, JsonNode doc) {
    Map<String, ObjectNode> ops = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
      for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
        String method = op.getKey().toLowerCase(Locale.ROOT);
        if (METHODS.contains(method)
            && routedTo(routes, path.getKey(), method).filter(service::equals).isPresent()) {
          ops.put(method + " " + path.getKey(), (ObjectNode) op.getValue());
        }
      }
    }
    return ops;
  }

  /** Every schema these operations refer to, and the schemas those refer to. */
  static Set<String> referencedSchemas(Iterable<? extends JsonNode> from, JsonNode schemas) {
    Set<String> seen = new HashSet<>();
    List<JsonNode> todo = new ArrayList<>();
    from.forEach(todo::add);
    while (!todo.isEmpty()) {
      JsonNode next = todo.remove(todo.size() - 1);
      for (String name : refs(next)) {
        if (seen.add(name) && schemas.has(name)) {
          todo.add(schemas.path(name));
        }
      }
    }
    seen.retainAll(iterableNames(schemas));
    return seen;
  }

  private static Set<String> iterableNames(JsonNode schemas) {
    Set<String> names = new HashSet<>();
    schemas.propertyNames().forEach(names::add);
    return names;
  }

  private static List<String> refs(JsonNode node) {
    List<String> found = new ArrayList<>();
    collectRefs(node, found);
    return found;
  }

  private static void collectRefs(JsonNode node, List<String> found) {
    if (node.isObject()) {
      JsonNode ref = node.get("$ref");
      if (ref != null && ref.isString() && ref.asString().startsWith(SCHEMA_REF)) {
        found.add(ref.asString().substring(SCHEMA_REF.length()));
      }
      node.forEach(child -> collectRefs(child, found));
    } else if (node.isArray()) {
      node.forEach(child -> collectRefs(child, found));
    }
  }

  /** A deep copy with every schema reference renamed as the map says. */
  static JsonNode renamed(JsonNode node, Map<String, String> renames) {
    JsonNode copy = node.deepCopy();
    rename(copy, renames);
    return copy;
  }

  private static void rename(JsonNode node, Map<String, String> renames) {
    if (node instanceof ObjectNode object) {
      JsonNode ref = object.get("$ref");
      if (ref != null && ref.isString() && ref.asString().startsWith(SCHEMA_REF)) {
        String name = ref.asString().substring(SCHEMA_REF.length());
        object.put("$ref", SCHEMA_REF + renames.getOrDefault(name, name));
      }
      object.forEach(child -> rename(child, renames));
    } else if (node.isArray()) {
      node.forEach(child -> rename(child, renames));
    }
  }

  private static JsonNode tag(JsonNode doc, String name) {
    for (JsonNode t : doc.path("tags")) {
      if (name.equals(t.path("name").asString(""))) {
        return t;
      }
    }
    return JsonNodeFactory.instance.objectNode().put("name", name);
  }

  /** "game-state", "Vote" -> "GameStateVote". */
  static String qualified(String service, String name) {
    StringBuilder b = new StringBuilder();
    for (String part : service.split("[^A-Za-z0-9]+")) {
      if (!part.isEmpty()) {
        b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
      }
    }
    return b.append(Character.toUpperCase(name.charAt(0))).append(name.substring(1)).toString();
  }
}
