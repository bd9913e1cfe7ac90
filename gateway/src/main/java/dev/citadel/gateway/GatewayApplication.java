package dev.citadel.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class GatewayApplication {
  public static void main(String[] args) {
    // Pods come and go: do not cache DNS answers for the JVM's default 30 s.
    java.security.Security.setProperty("networkaddress.cache.ttl", "5");
    // A failed lookup is not remembered for the default 10 s either (DnsInstances keeps the last
    // good answer meanwhile).
    java.security.Security.setProperty("networkaddress.cache.negative.ttl", "1");
    SpringApplication.run(GatewayApplication.class, args);
  }
}
