#include "zones/dnssec_key_material.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "zones/dnssec_key_store.hpp"

namespace zones {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string opensslError() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

// The DNSKEY public key field of `key`, or nullopt if it is not a key of `algorithm`.
std::optional<std::vector<uint8_t>> publicField(EVP_PKEY* key, uint8_t algorithm) {
    if (algorithm == kDnssecEcdsaP256Sha256) {
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return std::nullopt;
        char group[64] = {};
        size_t groupLen = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &groupLen) != 1 ||
            std::string(group) != "prime256v1")
            return std::nullopt;
        // Uncompressed point 0x04|X|Y; RFC 6605 §4 keeps X|Y.
        uint8_t point[65];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                            sizeof point, &len) != 1 ||
            len != 65 || point[0] != 0x04)
            return std::nullopt;
        return std::vector<uint8_t>(point + 1, point + 65);
    }
    if (algorithm == kDnssecEd25519) {
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) return std::nullopt;
        std::vector<uint8_t> out(32);
        size_t len = out.size();
        if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != 32)
            return std::nullopt;
        return out;
    }
    return std::nullopt;
}

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

GeneratedKey generateDnssecKey(uint8_t algorithm) {
    CtxPtr ctx(nullptr, EVP_PKEY_CTX_free);
    if (algorithm == kDnssecEcdsaP256Sha256)
        ctx.reset(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
    else if (algorithm == kDnssecEd25519)
        ctx.reset(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
    else
        throw std::runtime_error("unsupported DNSSEC algorithm " + std::to_string(algorithm));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
        (algorithm == kDnssecEcdsaP256Sha256 &&
         EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) != 1) ||
        EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        throw std::runtime_error("cannot generate a " + dnssecAlgorithmName(algorithm) +
                                 " key: " + opensslError());
    PkeyPtr key(raw, EVP_PKEY_free);
    GeneratedKey out;
    out.algorithm = algorithm;
    auto pub = publicField(key.get(), algorithm);
    if (!pub) throw std::runtime_error("OpenSSL made a key without the expected public part");
    out.publicKey = std::move(*pub);
    BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                              nullptr) != 1)
        throw std::runtime_error("cannot encode the private key: " + opensslError());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    out.pem.assign(data, size_t(len));
    return out;
}

std::vector<uint8_t> dnskeyRdata(uint16_t flags, uint8_t algorithm,
                                 const std::vector<uint8_t>& publicKey) {
    std::vector<uint8_t> out{uint8_t(flags >> 8), uint8_t(flags), 3, algorithm};
    out.insert(out.end(), publicKey.begin(), publicKey.end());
    return out;
}

uint16_t dnssecKeyTag(const std::vector<uint8_t>& rdata) {
    // RFC 4034 Appendix B (algorithm 1 is never made here).
    uint32_t ac = 0;
    for (size_t i = 0; i < rdata.size(); ++i) ac += (i & 1) ? rdata[i] : uint32_t(rdata[i]) << 8;
    ac += (ac >> 16) & 0xFFFF;
    return uint16_t(ac & 0xFFFF);
}

std::vector<uint8_t> dsSha256Digest(const Name& owner, const std::vector<uint8_t>& rdata) {
    std::vector<uint8_t> input(owner.wire().begin(), owner.wire().end());  // canonical: lower
    input.insert(input.end(), rdata.begin(), rdata.end());
    std::vector<uint8_t> digest(32);
    unsigned int len = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len != 32)
        throw std::runtime_error("SHA-256 failed: " + opensslError());
    return digest;
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
    BioPtr bio(BIO_new_file(path.c_str(), "r"), BIO_free);
    if (!bio) {
        int e = errno;
        ERR_clear_error();
        return "private key file " + path + " cannot be read: " + std::strerror(e);
    }
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) {
        ERR_clear_error();
        return "private key file " + path + " holds no readable PEM private key";
    }
    auto pub = publicField(key.get(), algorithm);
    if (!pub)
        return "private key file " + path + " is not a " + dnssecAlgorithmName(algorithm) + " key";
    if (*pub != publicKey)
        return "private key file " + path + " holds another key than the DNSKEY in the database";
    return "";
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
