// testsupport::waitUntil — poll a condition until it holds or a deadline passes.
//
// Contract: calls `pred` at once and then every `interval` until it returns true (-> true)
// or `timeout` has elapsed since the call (-> false, after one last check). Tests use it
// instead of fixed sleeps, so they are as fast as the system allows and never race.
#pragma once

#include <chrono>
#include <functional>

namespace testsupport {

bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(10));

}  // namespace testsupport
