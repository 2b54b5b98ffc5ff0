#include "engine/geography.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "adapters/cli/geography_config.h"
#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

constexpr char kKotaMalangPath[] = MALPRO_SOURCE_DIR "/config/kota-malang.toml";

// Expects `status` to be `code` with `error_code` about `field`.
void ExpectRefused(const Status& status, StatusCode code, std::string_view error_code,
                   std::string_view field) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_EQ(status.error_code(), error_code) << status.ToString();
  EXPECT_EQ(status.field(), field) << status.ToString();
}

void ExpectCreateRefused(std::vector<Kecamatan> kecamatan, std::string_view error_code,
                         std::string_view field) {
  Result<Geography> geography = Geography::Create(std::move(kecamatan));
  ASSERT_FALSE(geography.ok());
  ExpectRefused(geography.status(), StatusCode::kInvalidArgument, error_code, field);
}

class GeographyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Geography> loaded = LoadGeography(kKotaMalangPath);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    geography_ = std::move(loaded).value();
  }

  const Geography& city() const { return *geography_; }

  std::optional<Geography> geography_;
};

TEST_F(GeographyTest, KotaMalangHasFiveKecamatanAndFiftySevenKelurahan) {
  EXPECT_EQ(city().kecamatan().size(), 5u);
  EXPECT_EQ(city().kelurahan_count(), 57u);
  std::vector<std::pair<std::string, size_t>> sizes;
  for (const Kecamatan& kecamatan : city().kecamatan()) {
    sizes.emplace_back(kecamatan.name, kecamatan.kelurahan.size());
  }
  const std::vector<std::pair<std::string, size_t>> expected = {
      {"Blimbing", 11}, {"Klojen", 11}, {"Kedungkandang", 12}, {"Sukun", 11}, {"Lowokwaru", 12}};
  EXPECT_EQ(sizes, expected);
}

TEST_F(GeographyTest, EveryKelurahanNamesItsOwnKecamatan) {
  for (const Kecamatan& kecamatan : city().kecamatan()) {
    EXPECT_TRUE(city().HasKecamatan(kecamatan.name));
    for (const std::string& kelurahan : kecamatan.kelurahan) {
      Result<std::string> found = city().KecamatanOf(kelurahan, "kelurahan");
      ASSERT_TRUE(found.ok()) << kelurahan;
      EXPECT_EQ(*found, kecamatan.name);
      EXPECT_TRUE(city().CheckPair(kecamatan.name, kelurahan, "kecamatan", "kelurahan").ok());
    }
  }
}

TEST_F(GeographyTest, KnownKelurahanAreInTheirKecamatan) {
  EXPECT_EQ(*city().KecamatanOf("Dinoyo", "kelurahan"), "Lowokwaru");
  EXPECT_EQ(*city().KecamatanOf("Oro-oro Dowo", "kelurahan"), "Klojen");
  EXPECT_EQ(*city().KecamatanOf("Rampal Celaket", "kelurahan"), "Klojen");
  EXPECT_EQ(*city().KecamatanOf("Sawojajar", "kelurahan"), "Kedungkandang");
  EXPECT_EQ(*city().KecamatanOf("Bandungrejosari", "kelurahan"), "Sukun");
  // A kelurahan may share its kecamatan's name.
  EXPECT_EQ(*city().KecamatanOf("Blimbing", "kelurahan"), "Blimbing");
}

TEST_F(GeographyTest, UnknownKelurahanIsRefusedNamingTheField) {
  Result<std::string> found = city().KecamatanOf("Batu", "home_kelurahan");
  ASSERT_FALSE(found.ok());
  ExpectRefused(found.status(), StatusCode::kInvalidArgument, "kelurahan_unknown",
                "home_kelurahan");
  EXPECT_NE(found.status().message().find("home_kelurahan"), std::string::npos);
  EXPECT_NE(found.status().message().find("not a kelurahan of Kota Malang"), std::string::npos)
      << found.status().message();
}

TEST_F(GeographyTest, MatchingIsExactAndCaseSensitive) {
  for (std::string_view near_miss :
       {"dinoyo", "DINOYO", " Dinoyo", "Dinoyo ", "Oro-Oro Dowo", "Oro-oro  Dowo", ""}) {
    SCOPED_TRACE(std::string(near_miss));
    EXPECT_FALSE(city().KecamatanOf(near_miss, "kelurahan").ok());
  }
  EXPECT_TRUE(city().HasKecamatan("Klojen"));
  EXPECT_FALSE(city().HasKecamatan("klojen"));
  EXPECT_FALSE(city().HasKecamatan("Klojen "));
  EXPECT_FALSE(city().HasKecamatan(""));
}

TEST_F(GeographyTest, KelurahanIsNotAKecamatan) { EXPECT_FALSE(city().HasKecamatan("Dinoyo")); }

TEST_F(GeographyTest, MatchingPairIsAccepted) {
  EXPECT_TRUE(city().CheckPair("Lowokwaru", "Dinoyo", "kecamatan", "kelurahan").ok());
  EXPECT_TRUE(city().CheckPair("Klojen", "Oro-oro Dowo", "kecamatan", "kelurahan").ok());
}

TEST_F(GeographyTest, UnknownKecamatanIsRefusedNamingItsField) {
  Status status = city().CheckPair("Batu", "Dinoyo", "umkm.kecamatan", "umkm.kelurahan");
  ExpectRefused(status, StatusCode::kInvalidArgument, "kecamatan_unknown", "umkm.kecamatan");
  EXPECT_NE(status.message().find("umkm.kecamatan"), std::string::npos) << status.message();
}

TEST_F(GeographyTest, UnknownKelurahanInAPairIsRefusedNamingItsField) {
  Status status = city().CheckPair("Lowokwaru", "Atlantis", "umkm.kecamatan", "umkm.kelurahan");
  ExpectRefused(status, StatusCode::kInvalidArgument, "kelurahan_unknown", "umkm.kelurahan");
}

TEST_F(GeographyTest, UnknownKecamatanIsReportedBeforeUnknownKelurahan) {
  Status status = city().CheckPair("Batu", "Atlantis", "kecamatan", "kelurahan");
  ExpectRefused(status, StatusCode::kInvalidArgument, "kecamatan_unknown", "kecamatan");
}

TEST_F(GeographyTest, MismatchedPairIsRefusedNamingTheRightKecamatan) {
  Status status = city().CheckPair("Blimbing", "Dinoyo", "kecamatan", "kelurahan");
  ExpectRefused(status, StatusCode::kInvalidArgument, "kelurahan_not_in_kecamatan", "kelurahan");
  EXPECT_NE(status.message().find("Lowokwaru"), std::string::npos) << status.message();
}

TEST_F(GeographyTest, OverlongInputIsCutInTheMessage) {
  const std::string huge(100000, 'x');
  Result<std::string> found = city().KecamatanOf(huge, "kelurahan");
  ASSERT_FALSE(found.ok());
  EXPECT_LT(found.status().message().size(), 2 * geography_name_bytes_max + 100);
}

TEST(GeographyCreateTest, KecamatanAndKelurahanMayShareAName) {
  Result<Geography> geography = Geography::Create({{"Sukun", {"Sukun", "Gadang"}}});
  ASSERT_TRUE(geography.ok()) << geography.status().ToString();
  EXPECT_EQ(geography->kelurahan_count(), 2u);
  EXPECT_EQ(*geography->KecamatanOf("Sukun", "kelurahan"), "Sukun");
}

TEST(GeographyCreateTest, KeepsTheOrderGiven) {
  Result<Geography> geography =
      Geography::Create({{"Sukun", {"Gadang", "Bandulan"}}, {"Klojen", {"Kauman"}}});
  ASSERT_TRUE(geography.ok());
  ASSERT_EQ(geography->kecamatan().size(), 2u);
  EXPECT_EQ(geography->kecamatan()[0].name, "Sukun");
  EXPECT_EQ(geography->kecamatan()[0].kelurahan, (std::vector<std::string>{"Gadang", "Bandulan"}));
  EXPECT_EQ(geography->kecamatan()[1].name, "Klojen");
}

TEST(GeographyCreateTest, DuplicateKelurahanInOneKecamatanIsRefused) {
  ExpectCreateRefused({{"Sukun", {"Gadang", "Bandulan", "Gadang"}}}, "geography_duplicate",
                      "kecamatan[0].kelurahan[2]");
}

TEST(GeographyCreateTest, DuplicateKelurahanAcrossKecamatanIsRefused) {
  ExpectCreateRefused({{"Sukun", {"Gadang"}}, {"Klojen", {"Kauman", "Gadang"}}},
                      "geography_duplicate", "kecamatan[1].kelurahan[1]");
}

TEST(GeographyCreateTest, DuplicateKecamatanIsRefused) {
  ExpectCreateRefused({{"Sukun", {"Gadang"}}, {"Sukun", {"Bandulan"}}}, "geography_duplicate",
                      "kecamatan[1].name");
}

TEST(GeographyCreateTest, EmptyNamesAreRefused) {
  ExpectCreateRefused({{"", {"Gadang"}}}, "geography_name_invalid", "kecamatan[0].name");
  ExpectCreateRefused({{"Sukun", {"Gadang", ""}}}, "geography_name_invalid",
                      "kecamatan[0].kelurahan[1]");
}

TEST(GeographyCreateTest, NamesPaddedWithWhitespaceAreRefused) {
  ExpectCreateRefused({{"Sukun ", {"Gadang"}}}, "geography_name_invalid", "kecamatan[0].name");
  ExpectCreateRefused({{"Sukun", {"\tGadang"}}}, "geography_name_invalid",
                      "kecamatan[0].kelurahan[0]");
}

TEST(GeographyCreateTest, OverlongNameIsRefused) {
  const std::string longest(geography_name_bytes_max, 'a');
  EXPECT_TRUE(Geography::Create({{"Sukun", {longest}}}).ok());
  ExpectCreateRefused({{"Sukun", {longest + "a"}}}, "geography_name_invalid",
                      "kecamatan[0].kelurahan[0]");
}

TEST(GeographyCreateTest, EmptyCityAndEmptyKecamatanAreRefused) {
  ExpectCreateRefused({}, "geography_empty", "kecamatan");
  ExpectCreateRefused({{"Sukun", {"Gadang"}}, {"Klojen", {}}}, "geography_empty",
                      "kecamatan[1].kelurahan");
}

TEST(GeographyCreateTest, TooManyKelurahanIsOverTheLimit) {
  Kecamatan kecamatan{.name = "Sukun", .kelurahan = {}};
  for (size_t i = 0; i <= geography_kelurahan_max; ++i) {
    kecamatan.kelurahan.push_back("Kelurahan " + std::to_string(i));
  }
  Result<Geography> geography = Geography::Create({kecamatan});
  ASSERT_FALSE(geography.ok());
  ExpectRefused(geography.status(), StatusCode::kLimitExceeded, "geography_too_large", "kecamatan");
}

class GeographyConfigTest : public ::testing::Test {
 protected:
  std::string Write(std::string_view text) {
    const std::string path = dir_.Sub("geography.toml");
    std::ofstream(path) << text;
    return path;
  }

  malpro::testing::TempDir dir_;
};

TEST_F(GeographyConfigTest, ReadsASmallCity) {
  Result<Geography> geography = LoadGeography(Write(R"(
[[kecamatan]]
name = "Sukun"
kelurahan = ["Gadang", "Bandulan"]

[[kecamatan]]
name = "Klojen"
kelurahan = ["Kauman"]
)"));
  ASSERT_TRUE(geography.ok()) << geography.status().ToString();
  EXPECT_EQ(geography->kecamatan().size(), 2u);
  EXPECT_EQ(geography->kelurahan_count(), 3u);
}

TEST_F(GeographyConfigTest, MissingFileIsRefused) {
  Result<Geography> geography = LoadGeography(dir_.Sub("absent.toml"));
  ASSERT_FALSE(geography.ok());
  EXPECT_EQ(geography.status().error_code(), "config_syntax");
}

TEST_F(GeographyConfigTest, SyntaxErrorNamesTheFileAndLine) {
  const std::string path = Write("[[kecamatan]]\nname = \"Sukun\nkelurahan = []\n");
  Result<Geography> geography = LoadGeography(path);
  ASSERT_FALSE(geography.ok());
  EXPECT_EQ(geography.status().error_code(), "config_syntax");
  EXPECT_NE(geography.status().message().find(path + ":2"), std::string::npos)
      << geography.status().message();
}

TEST_F(GeographyConfigTest, UnknownKeysAreRefused) {
  Result<Geography> root = LoadGeography(Write("city = \"Malang\"\n"));
  ExpectRefused(root.status(), StatusCode::kInvalidArgument, "config_unknown_key", "city");
  Result<Geography> table =
      LoadGeography(Write("[[kecamatan]]\nname = \"Sukun\"\nkelurahans = [\"Gadang\"]\n"));
  ExpectRefused(table.status(), StatusCode::kInvalidArgument, "config_unknown_key",
                "kecamatan[0].kelurahans");
}

TEST_F(GeographyConfigTest, MissingKeysAreRefused) {
  ExpectRefused(LoadGeography(Write("")).status(), StatusCode::kInvalidArgument,
                "config_missing_key", "kecamatan");
  ExpectRefused(LoadGeography(Write("[[kecamatan]]\nkelurahan = [\"Gadang\"]\n")).status(),
                StatusCode::kInvalidArgument, "config_missing_key", "kecamatan[0].name");
  ExpectRefused(LoadGeography(Write("[[kecamatan]]\nname = \"Sukun\"\n")).status(),
                StatusCode::kInvalidArgument, "config_missing_key", "kecamatan[0].kelurahan");
}

TEST_F(GeographyConfigTest, WrongTypesAreRefusedNamingTheKey) {
  ExpectRefused(LoadGeography(Write("kecamatan = \"Sukun\"\n")).status(),
                StatusCode::kInvalidArgument, "config_wrong_type", "kecamatan");
  ExpectRefused(
      LoadGeography(Write("[[kecamatan]]\nname = 7\nkelurahan = [\"Gadang\"]\n")).status(),
      StatusCode::kInvalidArgument, "config_wrong_type", "kecamatan[0].name");
  ExpectRefused(
      LoadGeography(Write("[[kecamatan]]\nname = \"Sukun\"\nkelurahan = [\"Gadang\", 2]\n"))
          .status(),
      StatusCode::kInvalidArgument, "config_wrong_type", "kecamatan[0].kelurahan[1]");
  ExpectRefused(
      LoadGeography(Write("[[kecamatan]]\nname = \"Sukun\"\nkelurahan = \"Gadang\"\n")).status(),
      StatusCode::kInvalidArgument, "config_wrong_type", "kecamatan[0].kelurahan");
}

TEST_F(GeographyConfigTest, EmptyListIsRefusedAsEmpty) {
  ExpectRefused(LoadGeography(Write("kecamatan = []\n")).status(), StatusCode::kInvalidArgument,
                "geography_empty", "kecamatan");
}

TEST_F(GeographyConfigTest, DuplicateKelurahanIsRefusedNamingTheKeyAndFile) {
  const std::string path = Write(R"(
[[kecamatan]]
name = "Sukun"
kelurahan = ["Gadang"]

[[kecamatan]]
name = "Klojen"
kelurahan = ["Kauman", "Gadang"]
)");
  Result<Geography> geography = LoadGeography(path);
  ASSERT_FALSE(geography.ok());
  ExpectRefused(geography.status(), StatusCode::kInvalidArgument, "geography_duplicate",
                "kecamatan[1].kelurahan[1]");
  EXPECT_EQ(geography.status().message().rfind(path + ": ", 0), 0u) << geography.status().message();
}

}  // namespace
}  // namespace malpro
