package dev.citadel.gamestate.transactions;

import dev.citadel.affinity.Rendezvous;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The participant for a player: the instance the gateway routes that player to (the same rendezvous
 * hashing over the same instance URLs), this one in-process. Routing to the owner keeps holds where
 * the player's commands run; correctness does not depend on it, since every store is fenced by
 * expected versions.
 */
public final class Owners implements Function<String, Participant> {
  private final Supplier<List<String>> instances;
  private final String self;
  private final Participant local;
  private final Function<String, Participant> connect;
  private final Map<String, Participant> remote = new ConcurrentHashMap<>();

  /**
   * @param instances the game-state instances' base URLs that the gateway routes to now (those that
   *     answer their readiness probe), so that a participant is asked where the player's commands
   *     run and an instance that is down is not asked at all (empty: this instance hosts everyone)
   * @param self this instance's URL in that list
   * @param connect the participant at another instance's URL
   */
  public Owners(
      Supplier<List<String>> instances,
      String self,
      Participant local,
      Function<String, Participant> connect) {
    this.instances = instances;
    this.self = self;
    this.local = local;
    this.connect = connect;
  }

  @Override
  public Participant apply(String playerId) {
    String owner = Rendezvous.pick(playerId, instances.get(), Function.identity()).orElse(self);
    if (owner.equals(self)) {
      return local;
    }
    return remote.computeIfAbsent(owner, connect);
  }
}
