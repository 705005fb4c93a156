// HTTP(S) check entry point; kept apart so only http_check.cpp compiles Beast.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "probes/check_runner.hpp"

namespace probes {
void runHttpCheck(boost::asio::io_context& io, boost::asio::ssl::context& tls,
                  const zones::ProbeDef& probe, const CheckTarget& target, CheckDone done);
}  // namespace probes
