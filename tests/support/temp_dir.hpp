// testsupport::TempDir — a fresh private directory under $TMPDIR (or /tmp) for one test.
//
// Contract: the constructor creates the directory with mkdtemp (mode 0700) or throws; the
// destructor removes it with everything inside, unless DNSD_KEEP_TEMP is set in the
// environment (then the path is printed so a failing run can be inspected). Move-only.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace testsupport {

class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "dnsd-test");
    ~TempDir();
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // path() / name, as a string (convenient for argv).
    std::string file(std::string_view name) const;
    // Writes `content` to path()/name (overwriting) and returns the full path.
    std::string writeFile(std::string_view name, std::string_view content) const;

  private:
    void remove() noexcept;
    std::filesystem::path path_;
};

}  // namespace testsupport
