// Malformed CBF files, each made from a good one by editing bytes: every one throws xrd::Error naming the file, the
// field or byte offset and what was expected; none crashes or reads out of bounds (this test runs under ASan too).
#include <catch2/catch.hpp>

#include "datasets/cbf.hpp"
#include "tests/test_cbf_support.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd;
using test::replaced;

namespace {

const std::string kName = "bad.cbf";

std::vector<uint8_t> good_300k() { return test::read_bytes(test::fixtures() / "real" / "pilatus300k_in16c_010001.cbf"); }
std::vector<uint8_t> good_small() {  // 40 x 32, has 16-bit escapes
  return test::read_bytes(test::fixtures() / "cbf" / "fabio_written" / "deltas_16bit.cbf");
}

// What a reader does with a file: parse, verify MD5 (mismatch is an error), decode with one decoder.
void read_all(const std::vector<uint8_t>& b, bool reference) {
  auto v = cbf::parse(b, kName);
  if (cbf::check_md5(v) == cbf::Md5Status::mismatch)
    throw Error(kName, Error::at_field("Content-MD5"), "mismatch");
  std::vector<int32_t> px(v.binary.width * v.binary.height);
  cbf::decode(v, px, reference);
}

// Both decoders must fail the same way; returns the error for more checks.
Error error_of(const std::vector<uint8_t>& b, const std::string& where_part, const std::string& reason_part) {
  std::optional<Error> first;
  for (bool reference : {false, true}) {
    try {
      read_all(b, reference);
      FAIL("no error thrown; expected one at '" << where_part << "' saying '" << reason_part << "'");
    } catch (const Error& e) {
      INFO("error: " << e.what());
      CHECK(e.file() == kName);
      CHECK(e.where().find(where_part) != std::string::npos);
      CHECK(e.reason().find(reason_part) != std::string::npos);
      CHECK(std::string(e.what()).find(kName) == 0);
      if (first) CHECK(first->where() == e.where());
      first = e;
    }
  }
  return *first;
}

size_t parsed_payload_offset(const std::vector<uint8_t>& b) { return cbf::parse(b, kName).binary.payload_offset; }

}  // namespace

TEST_CASE("the good files used below read (so each failure below comes from its edit)") {
  CHECK_NOTHROW(read_all(good_300k(), false));
  CHECK_NOTHROW(read_all(good_small(), true));
}

TEST_CASE("empty file") { error_of({}, "byte 0", "empty file"); }

TEST_CASE("not a CBF file") {
  error_of(test::read_bytes(test::fixtures() / "cbf" / "fabio_written" / "ramp_8bit.i32le"), "byte 0", "not a CBF");
  const std::string png = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
  error_of(std::vector<uint8_t>(png.begin(), png.end()), "byte 0", "not a CBF");
  error_of(test::read_bytes(test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.poni"), "byte 0", "not a CBF");
}

TEST_CASE("no binary section or no binary marker") {
  auto b = good_300k();
  const size_t marker = test::offset_of(b, "\x0c\x1a\x04\xd5");
  SECTION("marker bytes removed") { error_of(replaced(b, "\x0c\x1a\x04\xd5", ""), "byte", "no binary marker"); }
  SECTION("file cut before the marker") {
    error_of(std::vector<uint8_t>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(marker)), "byte",
             "no binary marker");
  }
  SECTION("CIF header only, cut before the MIME header") {
    const size_t mime = test::offset_of(b, "--CIF-BINARY-FORMAT-SECTION--");
    error_of(std::vector<uint8_t>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(mime)), "byte",
             "no binary section");
  }
}

TEST_CASE("X-Binary-Size past the end of the file") {
  auto b = good_300k();
  SECTION("file truncated in the payload") {
    b.resize(parsed_payload_offset(b) + 1000);
    auto e = error_of(b, "field X-Binary-Size", "only 1000 bytes follow");
  }
  SECTION("size edited larger than the file") {
    error_of(replaced(b, "X-Binary-Size: 302165", "X-Binary-Size: 999302165"), "field X-Binary-Size",
             "declares 999302165 bytes");
  }
  SECTION("size overflowing 64 bits") {
    error_of(replaced(b, "X-Binary-Size: 302165", "X-Binary-Size: 99999999999999999999999"), "field X-Binary-Size",
             "expected a non-negative decimal integer");
  }
  SECTION("negative size") {
    error_of(replaced(b, "X-Binary-Size: 302165", "X-Binary-Size: -5"), "field X-Binary-Size",
             "expected a non-negative decimal integer");
  }
}

TEST_CASE("payload decoding to fewer elements than declared") {
  // One more row than the stream holds: the stream ends at its last byte, 487 elements short.
  auto b = replaced(replaced(good_300k(), "Second-Dimension: 619", "Second-Dimension: 620"),
                    "Number-of-Elements: 301453", "Number-of-Elements: 301940");
  const auto v = cbf::parse(b, kName);
  auto e = error_of(b, "byte " + std::to_string(v.binary.payload_offset + v.binary.binary_size), "301453 of 301940");
  CHECK(e.reason().find("487 more") != std::string::npos);
}

TEST_CASE("payload decoding to more elements than declared") {
  auto b = replaced(replaced(good_300k(), "Second-Dimension: 619", "Second-Dimension: 618"),
                    "Number-of-Elements: 301453", "Number-of-Elements: 300966");
  const auto v = cbf::parse(b, kName);
  auto e = error_of(b, "byte ", "bytes remain");
  // The remaining bytes start where element 300966 ends: after the header, inside the payload.
  auto at = std::stoull(e.where().substr(5));
  CHECK(at > v.binary.payload_offset);
  CHECK(at < v.binary.payload_offset + v.binary.binary_size);
}

TEST_CASE("stream ending inside an escape") {
  const auto b = good_small();
  const auto v = cbf::parse(b, kName);
  // A 16-bit escape (0x80 lo hi) well inside the payload; make X-Binary-Size end after 0x80 and one more byte.
  size_t esc = 100;
  while (esc < v.payload.size() && v.payload[esc] != 0x80) ++esc;
  REQUIRE(esc < v.payload.size());
  const std::string old_size = "X-Binary-Size: " + std::to_string(v.binary.binary_size);
  const std::string new_size = "X-Binary-Size: " + std::to_string(esc + 2);
  auto cut = replaced(b, old_size, new_size);
  // One row of esc+2 pixels: the payload is large enough for the element count (parse accepts it), and the
  // stream reaches the cut escape before it has produced them all.
  const std::string n = std::to_string(esc + 2);
  cut = replaced(replaced(replaced(cut, "Fastest-Dimension: 40", "Fastest-Dimension: " + n), "Second-Dimension: 32",
                          "Second-Dimension: 1"),
                 "Number-of-Elements: 1280", "Number-of-Elements: " + n);
  cut = replaced(cut, "Content-MD5: " + *v.binary.content_md5 + "\r\n", "");  // the MD5 would catch it first
  const size_t payload_offset = cbf::parse(cut, kName).binary.payload_offset;  // the header got shorter
  error_of(cut, "byte " + std::to_string(payload_offset + esc), "inside a 16-bit escape");
}

TEST_CASE("dimensions missing, zero, inconsistent or absurdly large") {
  const auto b = good_300k();
  SECTION("fastest dimension missing") {
    error_of(replaced(b, "X-Binary-Size-Fastest-Dimension: 487\r\n", ""), "field X-Binary-Size-Fastest-Dimension",
             "missing");
  }
  SECTION("second dimension missing") {
    error_of(replaced(b, "X-Binary-Size-Second-Dimension: 619\r\n", ""), "field X-Binary-Size-Second-Dimension",
             "missing");
  }
  SECTION("zero") {
    error_of(replaced(b, "Second-Dimension: 619", "Second-Dimension: 0"), "field X-Binary-Size-Second-Dimension",
             "is 0");
    error_of(replaced(b, "Fastest-Dimension: 487", "Fastest-Dimension: 0"), "field X-Binary-Size-Fastest-Dimension",
             "is 0");
  }
  SECTION("not a number") {
    error_of(replaced(b, "Fastest-Dimension: 487", "Fastest-Dimension: 48x7"),
             "field X-Binary-Size-Fastest-Dimension", "found '48x7'");
  }
  SECTION("absurdly large: refused before allocating") {
    auto big = replaced(replaced(replaced(b, "Fastest-Dimension: 487", "Fastest-Dimension: 4000000000"),
                                 "Second-Dimension: 619", "Second-Dimension: 4000000000"),
                        "Number-of-Elements: 301453", "Number-of-Elements: 16000000000000000000");
    error_of(big, "field X-Binary-Size-Fastest-Dimension", "too large");
    // Just over the limit, with a consistent element count.
    const size_t w = 1 << 15, h = (cbf::kMaxPixels >> 15) + 1;
    auto over = replaced(replaced(replaced(b, "Fastest-Dimension: 487", "Fastest-Dimension: " + std::to_string(w)),
                                  "Second-Dimension: 619", "Second-Dimension: " + std::to_string(h)),
                         "Number-of-Elements: 301453", "Number-of-Elements: " + std::to_string(w * h));
    error_of(over, "field X-Binary-Size-Fastest-Dimension", "expected at most");
  }
  SECTION("large dimensions on a small payload: refused before allocating") {
    auto big = replaced(replaced(replaced(b, "Fastest-Dimension: 487", "Fastest-Dimension: 16384"),
                                 "Second-Dimension: 619", "Second-Dimension: 16384"),
                        "Number-of-Elements: 301453", "Number-of-Elements: 268435456");
    error_of(big, "field X-Binary-Size", "302165 bytes cannot hold 268435456 elements");
  }
  SECTION("element count disagrees with width x height") {
    error_of(replaced(b, "Number-of-Elements: 301453", "Number-of-Elements: 301452"),
             "field X-Binary-Number-of-Elements", "expected width x height");
  }
  SECTION("a third dimension") {
    error_of(replaced(b, "X-Binary-Size-Padding", "X-Binary-Size-Third-Dimension: 2\r\nX-Binary-Size-Padding"),
             "field X-Binary-Size-Third-Dimension", "only 2D");
  }
}

TEST_CASE("unsupported conversion, element type, byte order or transfer encoding") {
  const auto b = good_300k();
  error_of(replaced(b, "x-CBF_BYTE_OFFSET", "x-CBF_PACKED"), "field conversions", "unsupported conversion");
  error_of(replaced(b, "conversions=\"x-CBF_BYTE_OFFSET\"", ""), "field conversions", "missing");
  error_of(replaced(b, "signed 32-bit integer", "signed 32-bit real IEEE"), "field X-Binary-Element-Type",
           "unsupported element type 'signed 32-bit real IEEE'");
  error_of(replaced(b, "signed 32-bit integer", "signed 64-bit integer"), "field X-Binary-Element-Type",
           "unsupported element type");
  error_of(replaced(b, "Byte-Order: LITTLE_ENDIAN", "Byte-Order: BIG_ENDIAN"), "field X-Binary-Element-Byte-Order",
           "expected LITTLE_ENDIAN");
  error_of(replaced(b, "Content-Transfer-Encoding: BINARY", "Content-Transfer-Encoding: BASE64"),
           "field Content-Transfer-Encoding", "only BINARY");
}

TEST_CASE("MD5 mismatch") {
  auto b = good_300k();
  const auto v = cbf::parse(b, kName);
  // Change one plain delta byte (never to or from the 0x80 escape): the stream still decodes, only the MD5 tells.
  size_t i = v.binary.payload_offset + 1000;
  while (b[i] == 0x80 || b[i] == 0x7f || b[i] == 0x81) ++i;
  b[i] = static_cast<uint8_t>(b[i] + 1);
  const auto edited = cbf::parse(b, kName);
  CHECK(cbf::check_md5(edited) == cbf::Md5Status::mismatch);
  std::vector<int32_t> px(edited.binary.width * edited.binary.height);
  CHECK_NOTHROW(cbf::decode(edited, px));

  const auto dir = test::temp_dir("cbf_md5");
  test::write_bytes(dir / "edited.cbf", b);
  try {
    cbf::read_image(dir / "edited.cbf", /*verify_md5=*/true);
    FAIL("MD5 mismatch not detected");
  } catch (const Error& e) {
    CHECK(e.file() == (dir / "edited.cbf").string());
    CHECK(e.where() == "field Content-MD5");
    CHECK(e.reason().find("expected ZlfdE4e4IyhcVg+jTiG/Vg==") != std::string::npos);
  }
  CHECK_NOTHROW(cbf::read_image(dir / "edited.cbf", /*verify_md5=*/false));
  fs::remove_all(dir);
}

TEST_CASE("I/O errors and a wrong output buffer name the file") {
  std::vector<uint8_t> buf;
  try {
    cbf::read_file("/nonexistent/dir/frame.cbf", buf);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.file() == "/nonexistent/dir/frame.cbf");
    CHECK(e.reason().find("cannot open") != std::string::npos);
  }
  CHECK_THROWS_AS(cbf::read_file(test::fixtures(), buf), Error);  // a directory

  const auto b = good_small();
  const auto v = cbf::parse(b, kName);
  std::vector<int32_t> wrong(v.binary.width * v.binary.height - 1);
  try {
    cbf::decode(v, wrong);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.file() == kName);
    CHECK(e.reason().find("expected 40 x 32") != std::string::npos);
  }
}

TEST_CASE("every truncation of a small file either reads or throws xrd::Error") {
  // A cheap exhaustive sweep: cut the file at every length; nothing may crash or escape as another exception.
  const auto b = good_small();
  size_t errors = 0;
  for (size_t n = 0; n <= b.size(); ++n) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      auto v = cbf::parse(cut, kName);
      std::vector<int32_t> px(v.binary.width * v.binary.height);
      cbf::decode(v, px);
    } catch (const Error&) {
      ++errors;
    }
  }
  const size_t payload_end = parsed_payload_offset(b) + cbf::parse(b, kName).binary.binary_size;
  CHECK(errors == payload_end);  // every cut before the end of the payload fails, every later one reads
}
