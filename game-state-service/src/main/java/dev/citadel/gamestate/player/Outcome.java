package dev.citadel.gamestate.player;

/** How a match ended for one player, and what it scores in Elo. */
public enum Outcome {
  WIN(1.0),
  LOSS(0.0),
  DRAW(0.5);

  private final double score;

  Outcome(double score) {
    this.score = score;
  }

  public double score() {
    return score;
  }
}
