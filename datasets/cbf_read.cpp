// CBF reading after the parse: MD5 check of the payload, decode into caller-owned pixels (errors located in the
// file, not only in the stream), whole-file reads into a reused buffer, and the read_image convenience.
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/enum_names.hpp"
#include "datasets/cbf.hpp"
#include "datasets/cbf_text.hpp"
#include "kernels/md5.hpp"

namespace xrd::cbf {

const char* to_string(Md5Status s) {
  static constexpr EnumName<Md5Status> names[] = {
      {Md5Status::ok, "ok"}, {Md5Status::mismatch, "mismatch"}, {Md5Status::absent, "absent"}};
  return enum_name(names, s, "unknown");
}

Md5Status check_md5(const CbfView& v) {
  if (!v.binary.content_md5) return Md5Status::absent;
  const std::string actual = to_base64(md5(v.payload));
  return text::trim(*v.binary.content_md5) == actual ? Md5Status::ok : Md5Status::mismatch;
}

namespace {

template <class T>
void decode_impl(const CbfView& v, std::span<T> out, bool reference) {
  const size_t expected = v.binary.width * v.binary.height;
  if (out.size() != expected)
    throw Error(v.path, "", "decode: output buffer holds " + std::to_string(out.size()) + " pixels, expected " +
                                std::to_string(v.binary.width) + " x " + std::to_string(v.binary.height) + " = " +
                                std::to_string(expected));
  const byte_offset::DecodeResult r = reference ? byte_offset::decode_scalar(v.payload, out, v.binary.element_type)
                                       : byte_offset::decode(v.payload, out, v.binary.element_type);
  if (r.ok()) return;
  // The codec speaks in stream offsets; a person with a hex editor wants the offset in the file.
  const size_t file_offset = v.binary.payload_offset + r.error_offset;
  throw Error(v.path, Error::at_byte(file_offset),
              "bad byte-offset payload (X-Binary-Size " + std::to_string(v.binary.binary_size) +
                  " bytes from file byte " + std::to_string(v.binary.payload_offset) +
                  ", X-Binary-Number-of-Elements " + std::to_string(v.binary.n_elements) +
                  "; stream offsets below are relative to the payload): " + r.message());
}

}  // namespace

void decode(const CbfView& v, std::span<int32_t> out, bool reference) { decode_impl(v, out, reference); }
void decode(const CbfView& v, std::span<float> out, bool reference) { decode_impl(v, out, reference); }

void read_file(const std::filesystem::path& p, std::vector<uint8_t>& buf) {
  const std::string name = p.string();
  auto fail = [&](const std::string& what) -> Error { return Error(name, "", what + ": " + std::strerror(errno)); };
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error e = fail("cannot stat");
    ::close(fd);
    throw e;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(name, "", "not a regular file: expected a CBF file");
  }
  buf.resize(static_cast<size_t>(st.st_size));  // keeps capacity: no reallocation when frames have similar sizes
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = fail("read failed at byte " + std::to_string(got));
      ::close(fd);
      throw e;
    }
    if (n == 0) break;  // the file shrank while we read it
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  buf.resize(got);
}

Image read_image(const std::filesystem::path& p, bool verify_md5) {
  std::vector<uint8_t> bytes;
  read_file(p, bytes);
  const CbfView v = parse(bytes, p.string());
  if (verify_md5 && check_md5(v) == Md5Status::mismatch)
    throw Error(v.path, Error::at_field("Content-MD5"),
                "payload MD5 is " + to_base64(md5(v.payload)) + ", expected " + *v.binary.content_md5 +
                    " (file corrupted?)");
  Image img;
  img.width = v.binary.width;
  img.height = v.binary.height;
  img.pixels.resize(img.width * img.height);
  decode(v, img.pixels);
  return img;
}

}  // namespace xrd::cbf
