// MD5 (OpenSSL) and the base64 form CBF's Content-MD5 field uses.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace xrd {
using Md5Digest = std::array<uint8_t, 16>;
Md5Digest md5(std::span<const uint8_t> data);
std::string to_hex(const Md5Digest& d);
std::string to_base64(const Md5Digest& d);  // 24 characters, with "==" padding, as in Content-MD5
}  // namespace xrd
