package dev.citadel.gamestate.storage;

import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.aggregate.AggregateType;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import java.util.List;

/** The player as an {@link AggregateType}. */
public final class PlayerAggregate
    implements AggregateType<PlayerState, PlayerCommand, PlayerEvent> {
  public static final String NAME = "player";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PlayerState initial(String id) {
    return PlayerState.initial(id);
  }

  @Override
  public List<PlayerEvent> decide(PlayerCommand command, PlayerState state) {
    return Player.decide(command, state);
  }

  @Override
  public PlayerState evolve(PlayerState state, PlayerEvent event) {
    return Player.evolve(state, event);
  }

  @Override
  public EventData encode(PlayerEvent event) {
    return PlayerCodec.encode(event);
  }

  @Override
  public PlayerEvent decode(String type, byte[] payload) {
    return PlayerCodec.decode(type, payload);
  }

  @Override
  public String snapshotType() {
    return PlayerCodec.SNAPSHOT_TYPE;
  }

  @Override
  public byte[] snapshot(PlayerState state) {
    return PlayerCodec.snapshot(state);
  }

  @Override
  public PlayerState restore(String id, byte[] snapshot) {
    return PlayerCodec.restore(snapshot);
  }
}
