#include "probes/quorum.hpp"

namespace probes {

QuorumOutcome quorumOf(const std::vector<VantageOpinion>& opinions, zones::Quorum quorum,
                       int configured) {
    QuorumOutcome out;
    int failingUp = 0;
    for (const auto& o : opinions) {
        if (!o.reporting || o.health == Health::Unknown) continue;
        ++out.reporting;
        if (o.health == Health::Up) {
            ++out.up;
            if (o.failing) ++failingUp;
        }
    }
    if (out.reporting == 0 || out.reporting < zones::quorumNeeded(quorum, configured)) return out;
    out.enough = true;
    out.needed = zones::quorumNeeded(quorum, out.reporting);
    out.health = out.up >= out.needed ? Health::Up : Health::Down;
    out.failing = out.health == Health::Up && out.up - failingUp < out.needed;
    return out;
}

}  // namespace probes
