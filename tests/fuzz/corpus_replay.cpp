// Replays a fuzz target's corpus as a regression test, in every build (no clang needed).
//
// Linked with one *_fuzz.cpp; DNSD_FUZZ_CORPUS names tests/fuzz/corpus/<target>. Every file
// there (seeds, and each crash ever found, kept as crash-*) is fed to LLVMFuzzerTestOneInput
// in name order. A target signals a finding by aborting, so a regression kills this process:
// the file being replayed is printed first, and ctest shows it with the failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef DNSD_FUZZ_CORPUS
#error "DNSD_FUZZ_CORPUS must name the corpus directory"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST(FuzzCorpus, EveryFileReplaysClean) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(DNSD_FUZZ_CORPUS))
        if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty()) << "no corpus in " << DNSD_FUZZ_CORPUS;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        ASSERT_TRUE(in) << "cannot read " << f;
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
        std::fprintf(stderr, "replay %s (%zu bytes)\n", f.c_str(), bytes.size());
        EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0) << f;
    }
    std::fprintf(stderr, "replayed %zu files\n", files.size());
}
