package dev.citadel.gamestate.shop;

import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The catalogue as players see it: item id -> price in gold. */
@RestController
public class CatalogueController {
  private final Catalogue catalogue;

  public CatalogueController(Catalogue catalogue) {
    this.catalogue = catalogue;
  }

  @GetMapping("/api/game/catalogue")
  public Map<String, Long> catalogue() {
    return catalogue.sorted();
  }
}
