#include "probes/controller_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace probes {

std::optional<ControllerLock> ControllerLock::tryAcquire(const std::string& dbPath) {
    std::string path = pathFor(dbPath);
    // Read-only is enough for flock, so a file created by another user (root at a first
    // start, the service user later) still works if it is readable.
    common::Fd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644));
    if (!fd.valid())
        throw std::runtime_error("cannot open the controller lock file " + path + ": " +
                                 std::strerror(errno));
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return std::nullopt;
        if (errno != EINTR)
            throw std::runtime_error("cannot lock the controller lock file " + path + ": " +
                                     std::strerror(errno));
    }
    return ControllerLock(std::move(path), std::move(fd));
}

}  // namespace probes
