// probes::quorumOf — one member's health from its vantages' views, as a pure function.
//
// Contract (probes/README.md "Vantage points and quorum"): `configured` vantages exist; each
// opinion is one vantage's view of the member after its own rise/fall (Unknown = no view yet),
// and whether that view is current (`reporting`: the vantage reported every probe of the member
// within 3 intervals; the controller's own checks always are). With R reporting views of Up or
// Down:
// - when R < quorumNeeded(quorum, configured), there is not enough information: `enough` is
//   false and the caller keeps the member's previous state (no failover on missing data);
// - else the member is Up when at least quorumNeeded(quorum, R) views are Up, Down otherwise;
// - `failing`: Up, but it would not be if every Up view that has started a failure streak
//   flipped (the TTL near a state change).
// With one vantage this is exactly that vantage's view. No clock, no I/O.
#pragma once

#include <vector>

#include "probes/hysteresis.hpp"
#include "zones/pool_model.hpp"

namespace probes {

struct VantageOpinion {
    Health health = Health::Unknown;
    bool failing = false;  // Up with some of its `fall` checks failed
    bool reporting = true;
};

struct QuorumOutcome {
    bool enough = false;
    Health health = Health::Unknown;  // when enough
    bool failing = false;
    int up = 0, reporting = 0;
    int needed = 0;  // Up views needed out of those reporting (when enough)
};

QuorumOutcome quorumOf(const std::vector<VantageOpinion>& opinions, zones::Quorum quorum,
                       int configured);

}  // namespace probes
