// probes::Hysteresis — rise/fall counting for one (member, probe) pair.
//
// Contract: the first result decides the state at once (so one full probe round is enough
// for a first decision: there is no "unknown" after it). After that the state flips to DOWN
// only after `fall` consecutive failures and back to UP only after `rise` consecutive
// successes; any opposite result resets the streak, so a backend that alternates between
// healthy and failing never flips (no failover loop). Pure, no clock, no I/O.
#pragma once

namespace probes {

enum class Health { Unknown, Up, Down };

const char* healthName(Health health);

class Hysteresis {
  public:
    // Feeds one result; returns true when the state changed (including Unknown -> Up/Down).
    bool observe(bool ok, int rise, int fall);
    Health state() const { return state_; }
    // Results still needed before the state can flip (for a lowered TTL near a flip).
    int checksToFlip(int rise, int fall) const;
    // Starts from a known state (e.g. carried over a configuration reload).
    void reset(Health health) {
        state_ = health;
        streak_ = 0;
    }

  private:
    Health state_ = Health::Unknown;
    int streak_ = 0;  // consecutive results that disagree with state_
};

}  // namespace probes
