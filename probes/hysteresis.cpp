#include "probes/hysteresis.hpp"

namespace probes {

const char* healthName(Health health) {
    switch (health) {
        case Health::Up:
            return "up";
        case Health::Down:
            return "down";
        default:
            return "unknown";
    }
}

bool Hysteresis::observe(bool ok, int rise, int fall) {
    if (state_ == Health::Unknown) {
        state_ = ok ? Health::Up : Health::Down;
        streak_ = 0;
        return true;
    }
    bool agrees = (state_ == Health::Up) == ok;
    if (agrees) {
        streak_ = 0;
        return false;
    }
    ++streak_;
    int needed = state_ == Health::Up ? fall : rise;
    if (streak_ >= needed) {
        state_ = ok ? Health::Up : Health::Down;
        streak_ = 0;
        return true;
    }
    return false;
}

int Hysteresis::checksToFlip(int rise, int fall) const {
    if (state_ == Health::Unknown) return 1;
    int needed = state_ == Health::Up ? fall : rise;
    return needed - streak_;
}

}  // namespace probes
