// Register functions and small shared helpers of the failover commands (pool, member, probe,
// status, events). The DB logic itself lives in zones/pool_store and zones/probe_store.
#pragma once

#include <cstdint>
#include <string>

#include "tools/dnsctl/command.hpp"
#include "zones/vantage_store.hpp"

namespace dnsctl {

void registerPoolCommands(Registry& registry);
void registerMemberCommands(Registry& registry);
void registerProbeCommands(Registry& registry);
void registerStatusCommands(Registry& registry);
void registerEventCommands(Registry& registry);
void registerVantageCommands(Registry& registry);  // vantage_commands.cpp

// "2026-11-23T14:00:00Z", "2026-11-23T14:00Z", "2026-11-23 14:00", "+10m" (from now), "now",
// or "@1700000000" (Unix seconds) -> ms since epoch; throws UsageError otherwise.
int64_t parseTimeMs(const std::string& text, const std::string& flag);
std::string formatTimeMs(int64_t ms);  // ISO 8601 UTC with milliseconds
std::string formatAge(int64_t ms);     // "3.2s", "4m10s", "2h3m"
// Duration flag value -> ms, with a UsageError naming the flag.
int64_t durationFlag(const std::string& text, const std::string& flag);
// "reporting", "SILENT since 12:01:03" or "never reported" (zones::vantageState).
std::string vantageStateText(const zones::VantageInfo& vantage, int64_t nowMs);

}  // namespace dnsctl
