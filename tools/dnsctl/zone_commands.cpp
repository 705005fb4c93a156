#include "tools/dnsctl/command.hpp"
namespace dnsctl {
void registerZoneCommands(Registry&) {}
}  // namespace dnsctl
