// Every CBF fixture reads: real detector files (stats from expected.json), fabio-written files (pixels vs .i32le),
// the hand-made 64-bit escape file; with the fast and the reference decoder, int32 and float output.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "datasets/cbf.hpp"
#include "tests/test_cbf_support.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd;

namespace {

nlohmann::json load_json(const fs::path& p) {
  auto b = test::read_bytes(p);
  return nlohmann::json::parse(b.begin(), b.end());
}

// Parse, decode with both decoders (int32 and float) and check the statistics expected.json gives.
void check_file(const fs::path& file, const nlohmann::json& exp, bool expect_md5) {
  INFO(file.string());
  std::vector<uint8_t> buf;
  cbf::read_file(file, buf);
  const cbf::CbfView v = cbf::parse(buf, file.string());
  CHECK(v.binary.height == exp["shape"][0].get<size_t>());
  CHECK(v.binary.width == exp["shape"][1].get<size_t>());
  CHECK(v.binary.n_elements == v.binary.width * v.binary.height);
  CHECK(v.payload.data() == buf.data() + v.binary.payload_offset);  // a view, not a copy
  CHECK(v.payload.size() == v.binary.binary_size);
  CHECK(cbf::check_md5(v) == (expect_md5 ? cbf::Md5Status::ok : cbf::Md5Status::absent));

  std::vector<int32_t> fast(v.binary.width * v.binary.height), ref(fast.size());
  cbf::decode(v, fast);
  cbf::decode(v, ref, /*reference=*/true);
  CHECK(test::first_difference(fast, ref) == -1);
  auto s = test::pixel_stats(ref);
  CHECK(s.min == exp["min"].get<int64_t>());
  CHECK(s.max == exp["max"].get<int64_t>());
  CHECK(s.sum == exp["sum"].get<int64_t>());
  CHECK(s.md5_hex == exp["pixels_md5"].get<std::string>());

  std::vector<float> f(fast.size());
  cbf::decode(v, f);
  size_t bad = 0;
  for (size_t i = 0; i < f.size(); ++i) bad += f[i] != static_cast<float>(ref[i]);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("real detector frames parse and decode to the expected pixels") {
  const fs::path dir = test::fixtures() / "real";
  const auto exp = load_json(dir / "expected.json");
  REQUIRE(exp.size() == 4);
  for (auto& [name, e] : exp.items()) check_file(dir / name, e, /*expect_md5=*/true);
}

TEST_CASE("fabio-written files decode to their .i32le pixels") {
  const fs::path dir = test::fixtures() / "cbf" / "fabio_written";
  const auto exp = load_json(dir / "expected.json");
  REQUIRE(exp.size() >= 9);
  for (auto& [name, e] : exp.items()) {
    check_file(dir / name, e, /*expect_md5=*/true);
    auto img = cbf::read_image(dir / name, /*verify_md5=*/true);
    auto raw = test::read_i32le(test::read_bytes(dir / e["raw"].get<std::string>()));
    INFO(name);
    CHECK(test::first_difference(img.pixels, raw) == -1);
  }
}

TEST_CASE("the hand-made file with 64-bit escapes decodes") {
  const fs::path dir = test::fixtures() / "cbf" / "hand_made";
  const auto exp = load_json(dir / "expected.json");
  check_file(dir / "escape64.cbf", exp["escape64.cbf"], true);
  auto img = cbf::read_image(dir / "escape64.cbf", true);
  CHECK(test::first_difference(img.pixels, test::read_i32le(test::read_bytes(dir / "escape64.i32le"))) == -1);
}

TEST_CASE("the Pilatus 2M mask (fabio-written, padding 1) reads") {
  auto img = cbf::read_image(test::fixtures() / "pilatus2m_mask.cbf", true);
  CHECK(img.width == 1475);
  CHECK(img.height == 1679);
  size_t masked = 0;
  for (int32_t v : img.pixels) masked += v != 0;
  CHECK(masked > 0);
  CHECK(masked < img.pixels.size());
}
