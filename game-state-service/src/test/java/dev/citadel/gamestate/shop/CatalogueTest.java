package dev.citadel.gamestate.shop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.gamestate.player.Player;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CatalogueTest {
  @Test
  void a_price_no_purchase_could_pay_stops_start_up_instead_of_refusing_every_buyer() {
    assertThatThrownBy(() -> new Catalogue(Map.of("crown", Player.MAX_AMOUNT + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("crown");
    assertThatThrownBy(() -> new Catalogue(Map.of("free", 0L)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new Catalogue(Map.of("crown", Player.MAX_AMOUNT)).price("crown"))
        .contains(Player.MAX_AMOUNT);
  }

  @Test
  void an_item_id_no_purchase_could_name_stops_start_up_instead_of_refusing_every_buyer() {
    assertThatThrownBy(() -> new Catalogue(Map.of("Gold_Pack", 10L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Gold_Pack");
    assertThatThrownBy(() -> new Catalogue(Map.of("potion.small", 10L)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new Catalogue(Map.of("gold-pack_2", 10L)).price("gold-pack_2")).contains(10L);
  }
}
