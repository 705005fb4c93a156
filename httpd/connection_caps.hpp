// httpd::ConnectionCaps — how many connections an endpoint holds, in all and per client address.
//
// Contract: `admit(key)` says whether one more connection from the client `key` (its address
// bytes, no port) fits under both caps and, if so, counts it; every admitted connection is
// given back exactly once with `release(key)`. Not thread-safe: the endpoint's one thread owns
// it. The total cap bounds memory and fds; the per-client cap keeps one misbehaving host from
// taking every slot, so a scrape from elsewhere still gets in (the same two caps dnsd's DNS over
// TCP server applies, RFC 7766 §6.2.2).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

namespace httpd {

class ConnectionCaps {
  public:
    enum class Admit { Ok, TotalFull, ClientFull };

    ConnectionCaps(size_t maxTotal, size_t maxPerClient)
        : maxTotal_(maxTotal), maxPerClient_(maxPerClient) {}

    Admit admit(const std::string& key) {
        if (open_ >= maxTotal_) return Admit::TotalFull;
        auto it = perClient_.find(key);
        if (it != perClient_.end() && it->second >= maxPerClient_) return Admit::ClientFull;
        if (it == perClient_.end()) it = perClient_.emplace(key, 0).first;
        ++it->second;
        ++open_;
        return Admit::Ok;
    }

    void release(const std::string& key) {
        auto it = perClient_.find(key);
        if (it == perClient_.end()) return;
        if (--it->second == 0) perClient_.erase(it);
        --open_;
    }

    size_t open() const { return open_; }

  private:
    size_t maxTotal_;
    size_t maxPerClient_;
    size_t open_ = 0;
    // Only clients holding a connection are present, so the map is bounded by maxTotal_.
    std::unordered_map<std::string, size_t> perClient_;
};

}  // namespace httpd
