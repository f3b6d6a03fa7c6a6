// The byte-offset decoders against files written by others: fabio-written and hand-made CBFs with their exact
// pixels (.i32le), and real detector frames checked against expected.json (min, max, sum, MD5 of the pixels).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kernels/byte_offset.hpp"
#include "kernels/md5.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd;

namespace {

// The payload found the way a CBF reader would, kept independent of datasets/cbf so the codec is tested alone.
struct Payload {
  std::vector<uint8_t> file;
  size_t offset = 0, size = 0, elements = 0;
  std::span<const uint8_t> bytes() const { return {file.data() + offset, size}; }
};

size_t header_number(const std::string& header, const std::string& key) {
  const auto at = header.find(key + ":");
  REQUIRE(at != std::string::npos);
  return std::stoull(header.substr(at + key.size() + 1));
}

Payload load_payload(const fs::path& p) {
  Payload r;
  r.file = test::read_bytes(p);
  static const uint8_t kStart[4] = {0x0C, 0x1A, 0x04, 0xD5};
  const auto it = std::search(r.file.begin(), r.file.end(), std::begin(kStart), std::end(kStart));
  REQUIRE(it != r.file.end());
  const std::string header(r.file.begin(), it);
  r.offset = static_cast<size_t>(it - r.file.begin()) + 4;
  r.size = header_number(header, "X-Binary-Size");
  r.elements = header_number(header, "X-Binary-Number-of-Elements");
  REQUIRE(r.offset + r.size <= r.file.size());
  return r;
}

std::vector<int32_t> read_i32le(const fs::path& p) {
  const auto b = test::read_bytes(p);
  REQUIRE(b.size() % 4 == 0);
  std::vector<int32_t> v(b.size() / 4);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<int32_t>(uint32_t(b[4 * i]) | uint32_t(b[4 * i + 1]) << 8 | uint32_t(b[4 * i + 2]) << 16 |
                                uint32_t(b[4 * i + 3]) << 24);
  return v;
}

std::string pixels_md5(const std::vector<int32_t>& px) {
  std::vector<uint8_t> le(px.size() * 4);
  for (size_t i = 0; i < px.size(); ++i)
    for (int k = 0; k < 4; ++k) le[4 * i + k] = static_cast<uint8_t>(static_cast<uint32_t>(px[i]) >> (8 * k));
  return to_hex(md5(le));
}

// Every kernel this CPU runs (scalar included) must give `expected` exactly, as int32 and as float. When
// `expected` came from the scalar reference itself, its int32 run is not repeated (slow under the sanitizers).
void check_all_kernels(const Payload& pl, const std::vector<int32_t>& expected, bool expected_is_reference = false) {
  for (const auto& k : byte_offset::decoder_kernels()) {
    if (!k.supported()) continue;
    INFO("kernel " << k.name);
    if (!(expected_is_reference && std::string(k.name) == "scalar")) {
      std::vector<int32_t> out(pl.elements, 0x5a5a5a5a);
      const auto r = k.decode_i32(pl.bytes(), out, byte_offset::ElementType::i32);
      INFO(r.message());
      REQUIRE(r.ok());
      CHECK(r.elements == pl.elements);
      CHECK(r.bytes_used == pl.size);
      CHECK(out == expected);
    }
    std::vector<float> outf(pl.elements, -1.f);
    REQUIRE(k.decode_f32(pl.bytes(), outf, byte_offset::ElementType::i32).ok());
    size_t mismatches = 0;
    for (size_t i = 0; i < outf.size(); ++i) mismatches += outf[i] != static_cast<float>(expected[i]);
    CHECK(mismatches == 0);
  }
}

nlohmann::json real_expected() {
  std::ifstream js(test::fixtures() / "real" / "expected.json");
  REQUIRE(js);
  return nlohmann::json::parse(js);
}

// One real frame: the reference against expected.json, then every kernel against the reference.
void check_real_frame(const std::string& name) {
  const auto all = real_expected();
  REQUIRE(all.contains(name));
  const auto& e = all[name];
  INFO(name);
  const Payload pl = load_payload(test::fixtures() / "real" / name);
  REQUIRE(pl.elements == e["shape"][0].get<size_t>() * e["shape"][1].get<size_t>());
  std::vector<int32_t> ref(pl.elements);
  const auto r = byte_offset::decode_scalar(pl.bytes(), ref);
  INFO(r.message());
  REQUIRE(r.ok());
  CHECK(*std::min_element(ref.begin(), ref.end()) == e["min"].get<int64_t>());
  CHECK(*std::max_element(ref.begin(), ref.end()) == e["max"].get<int64_t>());
  CHECK(std::accumulate(ref.begin(), ref.end(), int64_t(0)) == e["sum"].get<int64_t>());
  CHECK(pixels_md5(ref) == e["pixels_md5"].get<std::string>());
  check_all_kernels(pl, ref, true);
  CHECK(byte_offset::encoded_size(ref) == pl.size);
}

}  // namespace

// One test case per frame, so that ctest runs them in parallel (the 6M frame is slow under the sanitizers).
const char* const kRealFrames[] = {"pilatus3x2m_lab6_300_00_0001p.cbf", "pilatus300k_in16c_010001.cbf",
                                   "pilatus3_6m_thau_3_2_0001.cbf", "headerless_2m_example.cbf"};

TEST_CASE("real frames: every frame in expected.json has a test case", "[codec][fixtures][real]") {
  const auto expected = real_expected();  // a named json: items() of a temporary would dangle
  REQUIRE(expected.size() >= 4);
  for (const auto& [name, e] : expected.items())
    CHECK(std::find(std::begin(kRealFrames), std::end(kRealFrames), name) != std::end(kRealFrames));
}
TEST_CASE("real frame: Pilatus3 X 2M LaB6", "[codec][fixtures][real]") { check_real_frame(kRealFrames[0]); }
TEST_CASE("real frame: Pilatus 300K", "[codec][fixtures][real]") { check_real_frame(kRealFrames[1]); }
TEST_CASE("real frame: Pilatus3 6M", "[codec][fixtures][real]") { check_real_frame(kRealFrames[2]); }
TEST_CASE("real frame: headerless 2M example", "[codec][fixtures][real]") { check_real_frame(kRealFrames[3]); }

TEST_CASE("fabio-written and hand-made CBFs decode to their exact pixels", "[codec][fixtures]") {
  const fs::path dir = test::fixtures() / "cbf";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir / "fabio_written"))
    if (e.path().extension() == ".cbf") files.push_back(e.path());
  REQUIRE(files.size() >= 9);
  files.push_back(dir / "hand_made" / "escape64.cbf");
  for (const auto& f : files) {
    INFO(f.string());
    const Payload pl = load_payload(f);
    auto raw = f;
    const auto expected = read_i32le(raw.replace_extension(".i32le"));
    REQUIRE(expected.size() == pl.elements);
    check_all_kernels(pl, expected);
    std::vector<uint8_t> enc;
    byte_offset::encode(expected, enc);
    if (f.parent_path().filename() == "fabio_written") {
      // The encoder writes the very stream fabio wrote (deltas modulo 2^32, shortest escape each).
      CHECK(byte_offset::encoded_size(expected) == pl.size);
      CHECK(std::equal(enc.begin(), enc.end(), pl.bytes().begin(), pl.bytes().end()));
    } else {
      // Hand-made with exact 64-bit deltas: ours is shorter and decodes to the same pixels.
      CHECK(enc.size() < pl.size);
      std::vector<int32_t> back(pl.elements);
      REQUIRE(byte_offset::decode_scalar(enc, back).ok());
      CHECK(back == expected);
    }
  }
}

// The escape-dense frame of the benchmarks (bench_codec.cpp, scripts/make_dense_frame.sh): the real 2M frame's
// counts times 3.65, encoded by us. Every kernel must decode it to exactly those pixels, and the scalar reference too.
TEST_CASE("escape-dense frame (real 2M frame x 3.65): every kernel gives the scaled pixels", "[codec][fixtures][real]") {
  const Payload real = load_payload(test::fixtures() / "real" / kRealFrames[0]);
  std::vector<int32_t> px(real.elements);
  REQUIRE(byte_offset::decode_scalar(real.bytes(), px).ok());
  for (auto& v : px)
    if (v >= 0) v = static_cast<int32_t>((int64_t(v) * 73 + 10) / 20);
  Payload dense;
  byte_offset::encode(px, dense.file);
  dense.size = dense.file.size();
  dense.elements = px.size();
  // As dense as the LaB6 frame at 139 mm (192,570 16-bit escapes), with some 32-bit ones.
  size_t e16 = 0, e32 = 0;
  int64_t prev = 0;
  for (int32_t v : px) {
    const int64_t d = std::abs(int64_t(v) - prev);
    e16 += d > 127 && d <= 32767;
    e32 += d > 32767;
    prev = v;
  }
  CHECK(e16 > 190000);
  CHECK(e32 > 2000);
  std::vector<int32_t> ref(px.size());
  REQUIRE(byte_offset::decode_scalar(dense.bytes(), ref).ok());
  REQUIRE(ref == px);
  check_all_kernels(dense, px, true);
}
