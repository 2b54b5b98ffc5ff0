// The fuzz targets in the ordinary build: every file of tests/fuzz/corpus/<name>/ and
// tests/fuzz/regressions/<name>/ through the target's LLVMFuzzerTestOneInput (compiled here
// as MalproFuzz_<name>, see tests/fuzz/CMakeLists.txt), so the seeds stay valid inputs and
// every crash once found stays fixed. A broken property aborts the test with the file named.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#define MALPRO_FUZZ_TARGET(name) extern "C" int MalproFuzz_##name(const uint8_t* data, size_t size);
#include "fuzz_targets.inc"
#undef MALPRO_FUZZ_TARGET

namespace malpro {
namespace {

struct FuzzTarget {
  const char* name;
  int (*run)(const uint8_t* data, size_t size);
};

const FuzzTarget kTargets[] = {
#define MALPRO_FUZZ_TARGET(name) {#name, &MalproFuzz_##name},
#include "fuzz_targets.inc"
#undef MALPRO_FUZZ_TARGET
};

// For the test names: Targets/FuzzCorpus.EverySeedAndRegressionRunsClean/<name>.
void PrintTo(const FuzzTarget& target, std::ostream* out) { *out << target.name; }

std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(folder)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs one file as libFuzzer would: its bytes in a buffer of exactly their size.
void RunFile(const FuzzTarget& target, const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  ASSERT_TRUE(stream.good()) << file;
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(stream)),
                                   std::istreambuf_iterator<char>());
  std::fprintf(stderr, "fuzz %s: %s\n", target.name, file.c_str());
  auto data = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), data.get());
  EXPECT_EQ(target.run(data.get(), bytes.size()), 0) << file;
}

class FuzzCorpus : public ::testing::TestWithParam<FuzzTarget> {};

TEST_P(FuzzCorpus, EverySeedAndRegressionRunsClean) {
  const FuzzTarget& target = GetParam();
  const std::filesystem::path root = MALPRO_SOURCE_DIR "/tests/fuzz";
  const std::vector<std::filesystem::path> seeds = FilesIn(root / "corpus" / target.name);
  EXPECT_FALSE(seeds.empty()) << "tests/fuzz/corpus/" << target.name << " holds no seed";
  for (const auto& file : seeds) RunFile(target, file);
  for (const auto& file : FilesIn(root / "regressions" / target.name)) RunFile(target, file);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<FuzzTarget>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace malpro
