// testsupport::httpGet / promValue — read a daemon's local HTTP endpoint in tests.
//
// Contract: httpGet returns the whole response (status line, headers, body) of one GET to
// 127.0.0.1:port, or "" if nothing answered within 3 s. promValue returns the value of the
// Prometheus line `name` (labels included, exactly as rendered), or -1 when absent.
#pragma once

#include <cstdint>
#include <string>

namespace testsupport {

std::string httpGet(uint16_t port, const std::string& path);
double promValue(const std::string& text, const std::string& name);

}  // namespace testsupport
