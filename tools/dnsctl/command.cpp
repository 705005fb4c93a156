#include "tools/dnsctl/command.hpp"

#include <stdexcept>

namespace dnsctl {

void Registry::add(Command command) {
    std::string key = command.name;
    if (!commands_.emplace(key, std::move(command)).second) {
        throw std::logic_error("dnsctl command registered twice: " + key);
    }
}

const Command* Registry::find(const std::vector<std::string>& words, size_t& consumed) const {
    const Command* best = nullptr;
    std::string name;
    for (size_t i = 0; i < words.size(); ++i) {
        if (!words[i].empty() && words[i][0] == '-') break;
        name += (i ? " " : "") + words[i];
        if (auto it = commands_.find(name); it != commands_.end()) {
            best = &it->second;
            consumed = i + 1;
        }
    }
    return best;
}

std::vector<const Command*> Registry::list() const {
    std::vector<const Command*> out;
    for (const auto& [name, command] : commands_) out.push_back(&command);
    return out;
}

}  // namespace dnsctl
