// MD5 through OpenSSL's EVP interface (the low-level MD5() is deprecated in OpenSSL 3) and CBF's base64 form.
#include "kernels/md5.hpp"

#include <openssl/evp.h>

#include "base/error.hpp"

namespace xrd {

Md5Digest md5(std::span<const uint8_t> data) {
  Md5Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_md5(), nullptr) != 1 || len != d.size())
    throw Error("", "", "OpenSSL EVP_Digest(MD5) failed");
  return d;
}

std::string to_hex(const Md5Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(32, '0');
  for (size_t i = 0; i < d.size(); ++i) {
    s[2 * i] = kDigits[d[i] >> 4];
    s[2 * i + 1] = kDigits[d[i] & 15];
  }
  return s;
}

std::string to_base64(const Md5Digest& d) {
  unsigned char buf[25];  // 4 * ceil(16 / 3) = 24 characters + NUL
  const int n = EVP_EncodeBlock(buf, d.data(), static_cast<int>(d.size()));
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

}  // namespace xrd
