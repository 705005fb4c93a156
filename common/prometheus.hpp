// common::promLabel / promHeader — the two pieces of the Prometheus text format that every
// metrics renderer needs: escaping a label value (backslash, quote, newline) and the
// "# HELP" / "# TYPE" lines before a metric family.
#pragma once

#include <string>

namespace common {

inline std::string promLabel(const std::string& v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

inline void promHeader(std::string& out, const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace common
