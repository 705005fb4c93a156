#include "common/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace po = boost::program_options;

namespace common {

void storeConfigFile(const std::string& path, const po::options_description& options,
                     po::variables_map& vm) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read config file: " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    po::parsed_options parsed(&options);
    try {
        parsed = po::parse_config_file(text, options);
        po::variables_map check = vm;  // a bad value must not leave half a file stored
        po::store(parsed, check);
    } catch (const po::error& e) {
        // Find the line: the first that is wrong on its own. A problem no single line shows
        // (an option given twice) is reported for the whole file.
        std::istringstream lines(text.str());
        std::string line;
        for (int number = 1; std::getline(lines, line); ++number) {
            std::istringstream one(line);
            try {
                po::variables_map scratch;
                po::store(po::parse_config_file(one, options), scratch);
            } catch (const po::error& lineError) {
                throw std::runtime_error(path + ":" + std::to_string(number) + ": " +
                                         lineError.what());
            }
        }
        throw std::runtime_error(path + ": " + e.what());
    }
    po::store(parsed, vm);
}

}  // namespace common
