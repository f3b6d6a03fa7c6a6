// The frame-source seam: CBF frames loaded whole (load) and straight into caller memory (load_into) give the same
// metadata and payload bytes, on real detector files, on a header longer than the first read, and the codec table
// decodes them as the CBF reader does; bad files fail before any memory is claimed.
#include <algorithm>

#include <catch2/catch.hpp>

#include "datasets/cbf.hpp"
#include "datasets/frame_source.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

using namespace xrd;

namespace {

}  // namespace

TEST_CASE("load_into reads the same payload straight into claimed memory as load does") {
  auto files = test::real_frames();
  REQUIRE(files.size() >= 3);
  const frames::CbfFileSource src(files);
  for (size_t i = 0; i < src.size(); ++i) {
    INFO(files[i]);
    frames::EncodedFrame whole, direct;
    src.load(i, whole);
    std::vector<uint8_t> claimed;
    size_t claims = 0;
    src.load_into(i, direct, [&](const frames::EncodedFrame& meta, size_t bytes) {
      ++claims;
      CHECK(meta.width == whole.width);
      CHECK(meta.height == whole.height);
      claimed.assign(bytes, 0xEE);
      return std::span<uint8_t>(claimed);
    });
    CHECK(claims == 1);
    CHECK(direct.payload.data() == claimed.data());
    REQUIRE(direct.payload.size() == whole.payload.size());
    CHECK(std::equal(direct.payload.begin(), direct.payload.end(), whole.payload.begin()));
    CHECK(direct.payload_offset == whole.payload_offset);
    CHECK(direct.element == whole.element);
    CHECK(direct.content_md5 == whole.content_md5);
    // The codec table decodes the directly read payload exactly as the CBF reader decodes the file.
    std::vector<int32_t> a(direct.pixels()), b(direct.pixels());
    frames::decode(direct, std::span<int32_t>(a));
    const cbf::Image ref = cbf::read_image(files[i]);
    CHECK(ref.pixels == a);
    frames::decode(whole, std::span<int32_t>(b), true);
    CHECK(a == b);
  }
}

TEST_CASE("a header longer than the first read, and small files, take the whole-file path with the same result") {
  const auto dir = test::temp_dir("frame_source_long_header");
  auto bytes = test::read_bytes(test::fixtures() / "real" / "pilatus300k_in16c_010001.cbf");
  // A 40 KB comment line in the CIF text header pushes the binary marker past the first 16 KiB read.
  const std::string pad = "# padding " + std::string(40000, 'x') + "\r\n";
  const std::string text(bytes.begin(), bytes.end());
  const size_t at = text.find("_array_data.data");
  REQUIRE(at != std::string::npos);
  bytes.insert(bytes.begin() + static_cast<long>(at), pad.begin(), pad.end());
  test::write_bytes(dir / "long.cbf", bytes);
  const frames::CbfFileSource src({dir / "long.cbf"});
  frames::EncodedFrame whole, direct;
  src.load(0, whole);
  std::vector<uint8_t> claimed;
  src.load_into(0, direct, [&](const frames::EncodedFrame&, size_t n) {
    claimed.resize(n);
    return std::span<uint8_t>(claimed);
  });
  REQUIRE(direct.payload.size() == whole.payload.size());
  CHECK(std::equal(direct.payload.begin(), direct.payload.end(), whole.payload.begin()));
  CHECK(direct.payload_offset > 40000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a truncated or missing frame fails in load_into before memory is claimed, naming the file") {
  const auto dir = test::temp_dir("frame_source_bad");
  auto bytes = test::read_bytes(test::fixtures() / "real" / "pilatus300k_in16c_010001.cbf");
  bytes.resize(bytes.size() / 2);
  test::write_bytes(dir / "cut.cbf", bytes);
  const frames::CbfFileSource src({dir / "cut.cbf", dir / "missing.cbf"});
  frames::EncodedFrame f;
  bool claimed = false;
  auto claim = [&](const frames::EncodedFrame&, size_t) {
    claimed = true;
    return std::span<uint8_t>();
  };
  try {
    src.load_into(0, f, claim);
    FAIL("a truncated file was accepted");
  } catch (const Error& e) {
    CHECK(e.file() == (dir / "cut.cbf").string());
    CHECK(std::string(e.what()).find("X-Binary-Size") != std::string::npos);
  }
  try {
    src.load_into(1, f, claim);
    FAIL("a missing file was accepted");
  } catch (const Error& e) {
    CHECK(e.file() == (dir / "missing.cbf").string());
    CHECK(std::string(e.what()).find("cannot open") != std::string::npos);
  }
  CHECK_FALSE(claimed);
  std::filesystem::remove_all(dir);
}

TEST_CASE("parse_header locates the payload from the header alone, as parse does from the whole file") {
  for (const auto& p : test::real_frames()) {
    INFO(p);
    const auto bytes = test::read_bytes(p);
    const cbf::CbfView whole = cbf::parse(bytes, p.string());
    const std::span<const uint8_t> head(bytes.data(), whole.binary.payload_offset);
    const cbf::CbfView h = cbf::parse_header(head, bytes.size(), p.string());
    CHECK(h.binary.payload_offset == whole.binary.payload_offset);
    CHECK(h.binary.binary_size == whole.binary.binary_size);
    CHECK(h.payload.empty());
    CHECK_THROWS_AS(cbf::parse_header(head, whole.binary.payload_offset + 10, p.string()), Error);
  }
}
