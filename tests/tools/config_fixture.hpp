// Shared set-up for the `dnsctl plan|apply|dump` tests: a temp dir holding a database, the
// configuration files and key files, and the real dnsctl run on them.
//
// Contract: every helper runs the real binary (DNSCTL_BIN) with --db and a clean DNSD_DB;
// `sql` reads one value on a fresh read-only connection, so it sees exactly what is committed.
#pragma once

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"

namespace configtest {

using testsupport::CommandResult;

// 32 octets each ("secretsecretsecretsecretsecret12", "othersecretothersecretothersecre").
constexpr const char* kSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
constexpr const char* kOtherSecret = "b3RoZXJzZWNyZXRvdGhlcnNlY3JldG90aGVyc2VjcmU=";

class ConfigTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        dir_.writeFile("xfr.key", std::string(kSecret) + "\n");
        dir_.writeFile("xfr2.key", std::string(kOtherSecret) + "\n");
    }

    CommandResult dnsctl(std::vector<std::string> args, const std::string& db = "") {
        args.insert(args.begin(), {"--db", db.empty() ? db_ : db});
        return testsupport::runCommand(DNSCTL_BIN, args, {"DNSD_DB="});
    }
    CommandResult ok(std::vector<std::string> args, const std::string& db = "") {
        CommandResult r = dnsctl(std::move(args), db);
        EXPECT_EQ(r.exitCode, 0) << r.command << "\nstdout: " << r.out << "\nstderr: " << r.err;
        return r;
    }
    std::string write(const std::string& name, const std::string& text) {
        return dir_.writeFile(name, text);
    }
    std::string sql(const std::string& query, const std::string& db = "") const {
        SQLite::Database conn(db.empty() ? db_ : db, SQLite::OPEN_READONLY);
        return conn.execAndGet(query).getString();
    }
    std::string dump(const std::string& db = "") const {
        return testsupport::dumpDatabase(db.empty() ? db_ : db);
    }
    std::string serial(const std::string& zone = "svc.test.", const std::string& db = "") {
        auto r = ok({"zone", "list", "--json"}, db);
        auto at = r.out.find("\"" + zone + "\"");
        auto s = r.out.find("\"serial\":", at);
        return at == std::string::npos || s == std::string::npos
                   ? "?"
                   : r.out.substr(s + 9, r.out.find_first_of(",}", s) - s - 9);
    }

    testsupport::TempDir dir_{"dnsd-config"};
    std::string db_;
};

// A configuration with one of each object: keys, two zones (one with a secondary), probes
// (one unused), and a pool with two members.
inline const std::string kBase = R"(version: 1
keys:
  xfr:
    secret-file: xfr.key
zones:
  svc.test:
    records:
      - "@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300"
      - "@ 300 IN NS ns1"
      - "ns1 300 IN A 127.0.0.1"
      - "static 300 IN A 127.0.0.9"
    secondaries:
      - address: 127.0.0.53
        key: xfr
  other.test:
    records:
      - "@ 300 IN SOA ns1.svc.test. hostmaster 1 3600 600 86400 300"
      - "@ 300 IN NS ns1.svc.test."
probes:
  web:
    type: tcp
    port: 8080
    interval: 1s
  ping:
    type: icmp
pools:
  www:
    zone: svc.test
    name: www
    type: A
    ttl: 30
    members:
      - value: 127.0.0.11
        priority: 1
        probes: [web]
      - value: 127.0.0.12
        priority: 2
        probes: [web]
)";

}  // namespace configtest
