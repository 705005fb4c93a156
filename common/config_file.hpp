// common::storeConfigFile — `--config FILE` for dnsd and dnsd-probe.
//
// Contract: reads FILE into `vm` exactly as boost::program_options::parse_config_file would
// ("name = value" lines, '#' comments), but every problem is a std::runtime_error naming the
// file and, where one line is at fault, its number: "dnsd.conf:7: unrecognised option
// 'listne'". Boost alone says what is wrong but not where, which in a long file an operator
// has to guess. Nothing is stored when the file has a problem.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace common {

void storeConfigFile(const std::string& path,
                     const boost::program_options::options_description& options,
                     boost::program_options::variables_map& vm);

}  // namespace common
