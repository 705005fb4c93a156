#include "tools/dnsctl/command.hpp"
namespace dnsctl {
void registerRecordCommands(Registry&) {}
}  // namespace dnsctl
