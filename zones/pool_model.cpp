#include "zones/pool_model.hpp"

#include <algorithm>
#include <stdexcept>

namespace zones {
namespace {

[[noreturn]] void bad(const char* setting, const char* allowed, std::string_view text) {
    throw std::runtime_error(std::string(setting) + " must be " + allowed + " (got '" +
                             std::string(text) + "')");
}

}  // namespace

std::string toText(AllDownMode mode) {
    switch (mode) {
        case AllDownMode::Fallback:
            return "fallback";
        case AllDownMode::Nodata:
            return "nodata";
        case AllDownMode::ServeAll:
            break;
    }
    return "serve-all";
}

std::string toText(FailbackMode mode) {
    return mode == FailbackMode::Manual ? "manual" : "auto";
}

std::string toText(ApprovalMode mode) {
    return mode == ApprovalMode::Manual ? "manual" : "auto";
}

std::string toText(AdminState state) {
    switch (state) {
        case AdminState::ForceUp:
            return "up";
        case AdminState::ForceDown:
            return "down";
        case AdminState::Auto:
            break;
    }
    return "auto";
}

std::string toText(PoolType type) {
    switch (type) {
        case PoolType::AAAA:
            return "AAAA";
        case PoolType::CNAME:
            return "CNAME";
        case PoolType::A:
            break;
    }
    return "A";
}

AllDownMode parseAllDownMode(std::string_view text) {
    if (text == "serve-all") return AllDownMode::ServeAll;
    if (text == "fallback") return AllDownMode::Fallback;
    if (text == "nodata") return AllDownMode::Nodata;
    bad("all-down", "serve-all, fallback or nodata", text);
}

FailbackMode parseFailbackMode(std::string_view text) {
    if (text == "auto") return FailbackMode::Auto;
    if (text == "manual") return FailbackMode::Manual;
    bad("failback", "auto or manual", text);
}

ApprovalMode parseApprovalMode(std::string_view text) {
    if (text == "auto") return ApprovalMode::Auto;
    if (text == "manual") return ApprovalMode::Manual;
    bad("approval", "auto or manual", text);
}

Quorum parseQuorum(std::string_view text) {
    Quorum q;
    if (text == "majority") return q;
    if (text == "all") return {Quorum::Kind::All, 0};
    if (text == "any") return {Quorum::Kind::Any, 0};
    int n = 0;
    bool digits = !text.empty() && text.size() <= 2;
    for (char c : text) {
        digits &= c >= '0' && c <= '9';
        n = n * 10 + (c - '0');
    }
    if (!digits || n < 1 || n > 64) bad("quorum", "majority, all, any or a number 1..64", text);
    return {Quorum::Kind::Count, n};
}

std::string toText(Quorum q) {
    switch (q.kind) {
        case Quorum::Kind::Majority:
            return "majority";
        case Quorum::Kind::All:
            return "all";
        case Quorum::Kind::Any:
            return "any";
        case Quorum::Kind::Count:
            return std::to_string(q.count);
    }
    return "majority";
}

int quorumNeeded(Quorum q, int of) {
    switch (q.kind) {
        case Quorum::Kind::Majority:
            return of / 2 + 1;
        case Quorum::Kind::All:
            return std::max(of, 1);
        case Quorum::Kind::Any:
            return 1;
        case Quorum::Kind::Count:
            return q.count;
    }
    return of / 2 + 1;
}

AdminState parseAdminState(std::string_view text) {
    if (text == "auto") return AdminState::Auto;
    if (text == "up") return AdminState::ForceUp;
    if (text == "down") return AdminState::ForceDown;
    bad("force state", "up, down or auto", text);
}

PoolType parsePoolType(std::string_view text) {
    std::string up(text);
    std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return toupper(c); });
    if (up == "A") return PoolType::A;
    if (up == "AAAA") return PoolType::AAAA;
    if (up == "CNAME") return PoolType::CNAME;
    bad("type", "A, AAAA or CNAME", text);
}

PoolType poolTypeFromCode(int64_t code) {
    if (code == int64_t(PoolType::A) || code == int64_t(PoolType::AAAA) ||
        code == int64_t(PoolType::CNAME))
        return PoolType(code);
    bad("pool type", "A (1), AAAA (28) or CNAME (5)", std::to_string(code));
}

bool drainActive(bool drained, std::optional<int64_t> start, std::optional<int64_t> end,
                 int64_t now) {
    return drained && (!start || now >= *start) && (!end || now < *end);
}

std::vector<std::string> servingOrder(std::vector<const MemberStanding*> members) {
    std::sort(members.begin(), members.end(), [](const MemberStanding* a, const MemberStanding* b) {
        if (a->weight != b->weight) return a->weight > b->weight;
        return a->value < b->value;
    });
    std::vector<std::string> out;
    out.reserve(members.size());
    for (const auto* m : members) out.push_back(m->value);
    return out;
}

AllDownAnswer allDownAnswer(AllDownMode mode, const std::string& fallback, int ttl, int degradedTtl,
                            const std::vector<MemberStanding>& members) {
    AllDownAnswer a;
    a.ttl = std::min(ttl, degradedTtl);
    switch (mode) {
        case AllDownMode::Nodata:
            return a;
        case AllDownMode::Fallback:
            a.served = {fallback};
            return a;
        case AllDownMode::ServeAll:
            break;
    }
    std::vector<const MemberStanding*> picked, every;
    for (const auto& m : members) {
        every.push_back(&m);
        if (!m.drained && m.admin != AdminState::ForceDown) picked.push_back(&m);
    }
    a.served = servingOrder(picked.empty() ? every : picked);
    return a;
}

}  // namespace zones
