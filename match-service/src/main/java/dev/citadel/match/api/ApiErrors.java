package dev.citadel.match.api;

import dev.citadel.web.problem.ProblemHandling;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * match-service's errors as JSON problems: everything it raises is one of the shared ones ({@link
 * dev.citadel.web.problem.ApiException} among them), so it adds no mapping of its own.
 */
@RestControllerAdvice
public class ApiErrors extends ProblemHandling {}
