#include "zones/dnssec_key_material.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "zones/dnssec_key_store.hpp"
#include "zones/signing_key.hpp"

namespace zones {
namespace {

// Root writing for dnsd: the file or directory goes to the database file's owner.
void giveToDatabaseOwner(int fd, const std::string& path, const std::string& ownerOf) {
    if (::geteuid() != 0) return;
    struct stat st;
    if (::stat(ownerOf.c_str(), &st) != 0 || st.st_uid == 0) return;
    if (::fchown(fd, st.st_uid, st.st_gid) != 0)
        throw std::runtime_error("cannot give " + path + " to the database owner (uid " +
                                 std::to_string(st.st_uid) + "): " + std::strerror(errno));
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

std::optional<uint8_t> dnssecAlgorithmFromText(std::string_view text) {
    std::string t;
    for (char c : text) t += char(std::tolower(static_cast<unsigned char>(c)));
    if (t == "ecdsap256sha256" || t == "13") return kDnssecEcdsaP256Sha256;
    if (t == "ed25519" || t == "15") return kDnssecEd25519;
    return std::nullopt;
}

std::string dnssecAlgorithmName(uint8_t algorithm) {
    if (algorithm == kDnssecEcdsaP256Sha256) return "ECDSAP256SHA256";
    if (algorithm == kDnssecEd25519) return "ED25519";
    return "ALG" + std::to_string(algorithm);
}

// The cryptography is zones::SigningKey's (the one OpenSSL user for DNSSEC keys, which dnsd
// signs with); this file keeps the storage side.
GeneratedKey generateDnssecKey(uint8_t algorithm) {
    if (algorithm != kDnssecEcdsaP256Sha256 && algorithm != kDnssecEd25519)
        throw std::runtime_error("unsupported DNSSEC algorithm " + std::to_string(algorithm));
    auto key = SigningKey::generate(algorithm, 256);
    GeneratedKey out;
    out.algorithm = algorithm;
    out.publicKey.assign(key->publicKey().begin(), key->publicKey().end());
    out.pem = key->pem();
    return out;
}

std::vector<uint8_t> dnskeyRdata(uint16_t flags, uint8_t algorithm,
                                 const std::vector<uint8_t>& publicKey) {
    std::vector<uint8_t> out{uint8_t(flags >> 8), uint8_t(flags), 3, algorithm};
    out.insert(out.end(), publicKey.begin(), publicKey.end());
    return out;
}

uint16_t dnssecKeyTag(const std::vector<uint8_t>& rdata) {
    return keyTag(rdata);
}

std::vector<uint8_t> dsSha256Digest(const Name& owner, const std::vector<uint8_t>& rdata) {
    std::vector<uint8_t> ds = dsRdata(owner.key(), rdata);  // tag, algorithm, type 2, digest
    return std::vector<uint8_t>(ds.begin() + 4, ds.end());
}

std::string hexUpper(const std::vector<uint8_t>& bytes) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string checkPrivateKeyFile(const std::string& path, uint8_t algorithm,
                                const std::vector<uint8_t>& publicKey) {
    try {
        SigningKey::load(path, algorithm, 256, publicKey);
        return "";
    } catch (const std::runtime_error& e) {
        return e.what();
    }
}

void ensureKeyDirectory(const std::string& dir, const std::string& ownerOf) {
    if (::mkdir(dir.c_str(), 0700) == 0) {
        Fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        if (fd.fd < 0)
            throw std::runtime_error("cannot open key directory " + dir + ": " +
                                     std::strerror(errno));
        giveToDatabaseOwner(fd.fd, dir, ownerOf);
        return;
    }
    if (errno != EEXIST)
        throw std::runtime_error("cannot create key directory " + dir + ": " +
                                 std::strerror(errno));
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw std::runtime_error("key directory " + dir + " exists and is not a directory");
}

void writeKeyFile(const std::string& path, const std::string& pem, const std::string& ownerOf) {
    Fd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (fd.fd < 0)
        throw std::runtime_error("cannot create key file " + path + ": " + std::strerror(errno));
    // The umask cannot widen 0600, but a umask of 0 is not the only way: say what we want.
    bool ok = ::fchmod(fd.fd, 0600) == 0;
    for (size_t done = 0; ok && done < pem.size();) {
        ssize_t n = ::write(fd.fd, pem.data() + done, pem.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += size_t(n);
    }
    ok = ok && ::fsync(fd.fd) == 0;
    if (!ok) {
        std::string why = std::strerror(errno);
        ::unlink(path.c_str());
        throw std::runtime_error("cannot write key file " + path + ": " + why);
    }
    try {
        giveToDatabaseOwner(fd.fd, path, ownerOf);
    } catch (...) {
        ::unlink(path.c_str());
        throw;
    }
}

}  // namespace zones
