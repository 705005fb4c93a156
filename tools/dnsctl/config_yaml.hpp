// The configuration file of `dnsctl plan|apply|dump`: YAML (docs/config-file.md) read into a
// zones::Config and written back from one.
//
// Contract: `readConfigFile` checks everything that needs no database: YAML syntax, unknown
// and repeated keys, every value through the parser the matching dnsctl flag uses (durations,
// all-down, quorum, record text, ...), probes and pools through their stores' validators, and
// each zone through ZoneValidator. The first problem throws std::runtime_error
// "FILE:LINE: <object>: <problem>" (a zone's problems: every one, "SOURCE:LINE: ..." each).
// Zone files and key secret files are named relative to the configuration file. Nothing is
// written anywhere. `writeConfigFile` writes what `readConfigFile` reads back to the same
// Config (tests/tools/config_roundtrip_test.cpp): with `secretsDir`, each key's secret goes to
// DIR/NAME.key (mode 0600) and the file names it as secret-file (relative to `fileDir`).
#pragma once

#include <iosfwd>
#include <string>

#include "zones/config_model.hpp"

namespace dnsctl {

zones::Config readConfigFile(const std::string& path);

void writeConfigFile(std::ostream& out, const zones::Config& config,
                     const std::string& secretsDir = "", const std::string& fileDir = ".");

}  // namespace dnsctl
