// The codec table: per codec, the whole-frame decoders (fast kernel or scalar reference) that turn a frame's payload
// into pixels, with stream errors located in the frame's file; the block decoder the fused strategy resumes; the MD5
// check of a payload against its container's declaration.
#include <array>

#include "base/enum_names.hpp"
#include "datasets/cbf.hpp"
#include "datasets/frame_source.hpp"
#include "datasets/nxmx.hpp"
#include "kernels/bslz4.hpp"
#include "base/error.hpp"
#include "kernels/md5.hpp"

namespace xrd::frames {

namespace {

// The stream error of a byte-offset payload, located in the file: a person with a hex editor wants the file offset.
[[noreturn]] void throw_byte_offset_error(const EncodedFrame& f, const byte_offset::DecodeResult& r) {
  throw Error(f.origin, Error::at_byte(f.payload_offset + r.error_offset),
              "bad byte-offset payload (" + std::to_string(f.payload.size()) + " bytes from file byte " +
                  std::to_string(f.payload_offset) + ", " + std::to_string(f.pixels()) +
                  " elements expected; stream offsets below are relative to the payload): " + r.message());
}

template <class T>
void decode_byte_offset(const EncodedFrame& f, std::span<T> out, bool reference) {
  const byte_offset::DecodeResult r =
      reference ? byte_offset::decode_scalar(f.payload, out, f.element) : byte_offset::decode(f.payload, out, f.element);
  if (!r.ok()) throw_byte_offset_error(f, r);
}

// A bitshuffle-LZ4 chunk (an HDF5 chunk read as it is stored): the fast decoder or the scalar reference; stream
// errors name the frame and the byte in the file (payload_offset = the chunk's address in its HDF5 file). Unsigned
// pixels at 2^N - 1 (the detector's overflow / invalid flag) become -1, as Pilatus flags pixels with negatives.
template <class T>
void decode_bslz4(const EncodedFrame& f, std::span<T> out, bool reference) {
  try {
    if (reference)
      bslz4::decode_scalar(f.payload, out, f.element);
    else
      bslz4::decode(f.payload, out, f.element);
    nxmx::mask_overflow(out, f.element);  // 2^N - 1 (overflow / invalid) reads as -1: integration skips it
  } catch (const bslz4::StreamError& e) {
    throw Error(f.origin, Error::at_byte(f.payload_offset + e.offset()),
                "bad bitshuffle-LZ4 chunk (" + std::to_string(f.payload.size()) + " bytes from file byte " +
                    std::to_string(f.payload_offset) + ", " + std::to_string(f.pixels()) + " " +
                    byte_offset::to_string(f.element) + " elements expected; chunk byte " + std::to_string(e.offset()) +
                    "): " + e.what());
  }
}

struct CodecEntry {
  Codec codec;
  const char* name;
  void (*decode_i32)(const EncodedFrame&, std::span<int32_t>, bool reference);
  void (*decode_f32)(const EncodedFrame&, std::span<float>, bool reference);
  const char* (*kernel)(bool reference);
};

const std::array kCodecs{
    CodecEntry{Codec::byte_offset, "byte-offset", decode_byte_offset<int32_t>, decode_byte_offset<float>,
               [](bool reference) { return reference ? "scalar" : byte_offset::fast_decoder_name(); }},
    CodecEntry{Codec::bitshuffle_lz4, "bitshuffle-lz4", decode_bslz4<int32_t>, decode_bslz4<float>,
               [](bool reference) { return reference ? "scalar" : bslz4::fast_kernel().name; }},
};

const CodecEntry& entry(Codec c) {
  for (const auto& e : kCodecs)
    if (e.codec == c) return e;
  throw Error("", "", std::string("codec ") + std::to_string(static_cast<int>(c)) + " has no decoder in this build");
}

template <class T>
void check_size(const EncodedFrame& f, std::span<T> out) {
  if (out.size() != f.pixels())
    throw Error(f.origin, "", "decode: output buffer holds " + std::to_string(out.size()) + " pixels, expected " +
                                  std::to_string(f.width) + " x " + std::to_string(f.height) + " = " +
                                  std::to_string(f.pixels()));
}

}  // namespace

const char* to_string(Codec c) {
  static constexpr EnumName<Codec> names[] = {{Codec::byte_offset, "byte-offset"},
                                              {Codec::bitshuffle_lz4, "bitshuffle-lz4"}};
  return enum_name(names, c, "unknown");
}

void decode(const EncodedFrame& f, std::span<int32_t> out, bool reference) {
  check_size(f, out);
  entry(f.codec).decode_i32(f, out, reference);
}

void decode(const EncodedFrame& f, std::span<float> out, bool reference) {
  check_size(f, out);
  entry(f.codec).decode_f32(f, out, reference);
}

std::string decoder_name(Codec c, bool reference) { return entry(c).kernel(reference); }

void verify_md5(const EncodedFrame& f) {
  if (!f.content_md5) throw Error(f.origin, "field Content-MD5", "absent, but --verify-md5 was asked");
  if (to_base64(md5(f.payload)) != *f.content_md5)
    throw Error(f.origin, "field Content-MD5", "MD5 of the payload does not match Content-MD5");
}

bool BlockDecoder::start(const EncodedFrame& frame) {
  // Byte-offset int32 streams resume exactly: the deltas go on from the last value of the previous block. Narrower
  // element types wrap at their own width, so they are decoded whole.
  if (frame.codec != Codec::byte_offset || frame.element != byte_offset::ElementType::i32) return false;
  frame_ = &frame;
  pos_ = done_ = 0;
  carry_ = 0;
  return true;
}

void BlockDecoder::next(std::span<int32_t> out) {
  const EncodedFrame& f = *frame_;
  const bool more = done_ + out.size() < f.pixels();
  const byte_offset::DecodeResult r = byte_offset::decode(f.payload.subspan(pos_), out);
  if (!r.ok() && !(more && r.status == byte_offset::DecodeStatus::trailing_bytes)) {
    // Name the byte in the file: decode the frame whole with the reference for the error it gives.
    std::vector<int32_t> whole(f.pixels());
    decode(f, std::span<int32_t>(whole), true);
    byte_offset::DecodeResult at = r;  // the whole stream decoded: the block's error stands, located in the whole payload
    at.error_offset += pos_;
    throw_byte_offset_error(f, at);
  }
  if (carry_ != 0)
    for (auto& x : out) x = static_cast<int32_t>(static_cast<uint32_t>(x) + carry_);
  if (!out.empty()) carry_ = static_cast<uint32_t>(out.back());
  pos_ += r.bytes_used;
  done_ += out.size();
}

}  // namespace xrd::frames
