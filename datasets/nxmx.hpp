// NXmx HDF5 frames (Eiger2 / Pilatus4): reading frames from master + data files or single files, each frame one
// bitshuffle-LZ4 chunk (HDF5 filter 32008) read as it is stored (H5Dread_chunk, no filter plugin involved), and
// writing such files (direct chunk write, the filter declared so that h5py + the bitshuffle plugin read them).
//
// Layout read and written (the Dectris one):
//   master.h5  /entry (NXentry) /entry/data (NXdata): data_000001, data_000002, ... external links to
//              <stem>_data_000001.h5:/entry/data/data, ...; or one dataset /entry/data/data (a single file)
//              /entry/instrument/detector/pixel_mask (uint32, nonzero = masked; also looked for under
//              detectorSpecific/), x_pixel_size, detector_distance, beam_center_x/y; /entry/instrument/beam/
//              incident_wavelength
//   data file  /entry/data/data: frames x height x width, uint16 / uint32 / int32, chunks of one frame
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "datasets/frame_source.hpp"

namespace xrd::nxmx {

constexpr unsigned kBitshuffleFilter = 32008;  // HDF5's registered id of bitshuffle
constexpr unsigned kBitshuffleLz4 = 2;         // cd_values[4]: LZ4 after the bit shuffle

// Unsigned detector images flag overflowing / invalid pixels with 2^N - 1 (65535 for uint16; 2^32 - 1 already reads
// as -1 in int32): those become -1, so integration skips them as it skips Pilatus' negative pixels.
void mask_overflow(std::span<int32_t> values, byte_offset::ElementType t);
void mask_overflow(std::span<float> values, byte_offset::ElementType t);

// True when the file starts with the HDF5 signature.
bool is_hdf5(const std::filesystem::path& p);

}  // namespace xrd::nxmx

namespace xrd::frames {

// Frames of NXmx files: each path a master file (its /entry/data/data_NNNNNN datasets, in name order) or a single
// file (/entry/data/data); frames numbered file by file. Datasets stay open for the source's life. Throws xrd::Error
// naming the file and the dataset or link at construction (no /entry/data, a dangling external link, a dataset that
// is not frames x height x width integers in one-frame chunks with the bitshuffle-LZ4 filter, shapes that differ).
class Hdf5FrameSource : public FrameSource {
 public:
  // max_frames > 0: only the first max_frames frames.
  explicit Hdf5FrameSource(std::vector<std::filesystem::path> files, size_t max_frames = 0);
  ~Hdf5FrameSource() override;
  size_t size() const override;
  // "<data file>::/entry/data/data[<index in that dataset>]"
  std::string origin(size_t i) const override;
  // The frame's chunk as stored (H5Dread_chunk) into frame.storage; payload_offset is the chunk's file address.
  void load(size_t i, EncodedFrame& frame) const override;
  // The same chunk read straight into the memory claim() returns (pinned staging), no copy: located through HDF5
  // (H5Dget_chunk_info_by_coord), then read with pread() from the data file outside HDF5's global lock, so that
  // readers run in parallel (H5Dread_chunk when the file is not a plain sec2 file).
  void load_into(size_t i, EncodedFrame& frame, const PayloadClaim& claim) const override;
  size_t max_frame_bytes() const override;
  std::vector<std::filesystem::path> files() const override;

  size_t width() const;
  size_t height() const;
  byte_offset::ElementType element() const;
  // The NXmx pixel_mask of the first file as 0 / 1 per pixel (nonzero = masked); empty when the file has none.
  std::vector<uint8_t> pixel_mask() const;
  // The reference path: frame i through HDF5's filter pipeline (the bitshuffle plugin decodes it), values extended to
  // int32 with nxmx::mask_overflow applied, as decode() gives them. Throws xrd::Error when the plugin is missing.
  void read_filtered(size_t i, std::span<int32_t> out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xrd::frames

namespace xrd::nxmx {

struct WriteOptions {
  size_t width = 0, height = 0;
  size_t frames = 0;
  byte_offset::ElementType element = byte_offset::ElementType::u32;  // u16, u32 or i32
  size_t frames_per_file = 1000;  // 0: a single file, the frames in the master's /entry/data/data
  std::vector<uint8_t> pixel_mask;  // width x height, nonzero = masked; empty: no pixel_mask written
  std::string description = "xrdbench synthetic detector";
  double pixel_size_m = 75e-6, distance_m = 0.1, wavelength_m = 1e-10;
  double beam_center_x_px = 0, beam_center_y_px = 0;
};

// Writes an NXmx master file and its data files. Frames may come in any order and from several threads (HDF5
// calls are serialized inside); encode in the caller's threads and hand over chunks.
class Writer {
 public:
  // master: e.g. DIR/eiger_master.h5 -> data files DIR/eiger_data_000001.h5, ... Throws xrd::Error naming the file.
  Writer(const std::filesystem::path& master, const WriteOptions& opt);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  // Values wrap to the element type (callers map what must read as overflow to 2^N - 1 first).
  void write(size_t frame, std::span<const int32_t> values);
  // A chunk encoded by bslz4::encode (elements of opt.element, width x height of them).
  void write_chunk(size_t frame, std::span<const uint8_t> chunk);
  void close();
  // The master and the data files written, in order.
  std::vector<std::filesystem::path> files() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xrd::nxmx
