// MD5 (OpenSSL) against the RFC 1321 test suite, and the base64 form CBF's Content-MD5 uses.
#include <catch2/catch.hpp>

#include <string_view>

#include "kernels/md5.hpp"

namespace {
std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
}  // namespace

TEST_CASE("md5 matches the RFC 1321 test suite", "[codec][md5]") {
  CHECK(xrd::to_hex(xrd::md5(bytes(""))) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(xrd::to_hex(xrd::md5(bytes("a"))) == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(xrd::to_hex(xrd::md5(bytes("abc"))) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(xrd::to_hex(xrd::md5(bytes("message digest"))) == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(xrd::to_hex(xrd::md5(bytes("abcdefghijklmnopqrstuvwxyz"))) == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(xrd::to_hex(xrd::md5(bytes(
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890"))) ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("base64 of a digest is CBF's Content-MD5 form", "[codec][md5]") {
  // echo -n abc | openssl md5 -binary | base64
  CHECK(xrd::to_base64(xrd::md5(bytes("abc"))) == "kAFQmDzST7DWlj99KOF/cg==");
  CHECK(xrd::to_base64(xrd::md5(bytes(""))) == "1B2M2Y8AsgTpgAmY7PhCfg==");
  xrd::Md5Digest ff;
  ff.fill(0xff);
  CHECK(xrd::to_base64(ff) == "/////////////////////w==");
  CHECK(xrd::to_base64(ff).size() == 24);
}
