package dev.citadel.web.security;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.util.UriUtils;

/**
 * A request's path as routing sees it, for decisions made by comparing paths: percent-decoded,
 * repeated slashes collapsed, no trailing slash. Comparing the raw text instead lets {@code
 * /api/members/%6Cogin} past a check for {@code /api/members/login} that the handler then serves.
 */
public final class RequestPaths {
  private RequestPaths() {}

  public static String of(ServerHttpRequest request) {
    return normalize(request.getPath().pathWithinApplication().value());
  }

  private static final Pattern MATRIX = Pattern.compile(";[^/]*");
  private static final Pattern SLASHES = Pattern.compile("/{2,}");

  /** Pure: the normal form of a raw path. */
  public static String normalize(String raw) {
    if (normal(raw)) {
      return raw; // the usual path: nothing to drop, decode, collapse or trim (two checks a
      // request)
    }
    // Matrix parameters (";x=1") are ignored by routing, so they are here too.
    String plain = MATRIX.matcher(raw).replaceAll("");
    String decoded;
    try {
      decoded = UriUtils.decode(plain, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      decoded = plain; // routing will not match it either
    }
    String collapsed = SLASHES.matcher(decoded).replaceAll("/");
    return collapsed.length() > 1 && collapsed.endsWith("/")
        ? collapsed.substring(0, collapsed.length() - 1)
        : collapsed;
  }

  /** Already in normal form: no matrix parameter, escape, repeated slash or trailing slash. */
  static boolean normal(String raw) {
    return raw.indexOf(';') < 0
        && raw.indexOf('%') < 0
        && !raw.contains("//")
        && !(raw.length() > 1 && raw.endsWith("/"));
  }
}
