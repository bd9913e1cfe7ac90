package dev.citadel.gamestate;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class GameStateApplication {
  public static void main(String[] args) {
    SpringApplication.run(GameStateApplication.class, args);
  }
}
