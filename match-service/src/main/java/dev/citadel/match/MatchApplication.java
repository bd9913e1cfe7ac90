package dev.citadel.match;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class MatchApplication {
  public static void main(String[] args) {
    SpringApplication.run(MatchApplication.class, args);
  }
}
