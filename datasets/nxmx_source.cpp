// The NXmx frame source: opens every /entry/data dataset of the given files once (external links followed relative
// to the master's folder), checks each is frames x height x width integers chunked one frame per chunk with the
// bitshuffle-LZ4 filter, then reads frames as stored chunks (H5Dread_chunk; load_into: pread() at the chunk's address,
// outside HDF5's lock) or, for the reference, through HDF5's filter pipeline.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "datasets/nxmx.hpp"
#include "datasets/hdf5.hpp"
#include "kernels/bslz4.hpp"
#include "base/error.hpp"

namespace xrd::nxmx {

template <class T>
static void mask_overflow_t(std::span<T> v, byte_offset::ElementType t) {
  T over;
  if (t == byte_offset::ElementType::u16)
    over = static_cast<T>(65535);
  else if (t == byte_offset::ElementType::u8)
    over = static_cast<T>(255);
  else
    return;  // u32: 2^32 - 1 is already -1 in int32; signed types flag with negative values themselves
  for (auto& x : v) x = x == over ? static_cast<T>(-1) : x;
}
void mask_overflow(std::span<int32_t> v, byte_offset::ElementType t) { mask_overflow_t(v, t); }
void mask_overflow(std::span<float> v, byte_offset::ElementType t) { mask_overflow_t(v, t); }

bool is_hdf5(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  char sig[8] = {};
  f.read(sig, 8);
  return f && std::memcmp(sig, "\x89HDF\r\n\x1a\n", 8) == 0;
}

}  // namespace xrd::nxmx

namespace xrd::frames {

namespace fs = std::filesystem;
using hdf5::Id;

namespace {

// The data file opened once more for reading chunks with pread(), outside HDF5's global lock (the library serializes
// every call; parallel readers would wait for each other's H5Dread_chunk).
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd >= 0) ::close(fd);
      fd = o.fd;
      o.fd = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct Part {
  Fd raw;            // the data file for pread() (-1: read chunks with H5Dread_chunk)
  uint64_t base = 0;  // HDF5's base address in that file (its user block): chunk addresses are relative to it
  Id dataset;
  std::string data_file;  // the file that holds the dataset (the data file behind an external link)
  std::string name;       // its path in that file
  size_t frames = 0, first = 0;
};

byte_offset::ElementType element_of(hid_t type, const std::string& file, const std::string& name) {
  if (H5Tget_class(type) != H5T_INTEGER)
    throw Error(file, "dataset " + name, "pixels are not integers (expected uint16, uint32 or int32)");
  const size_t size = H5Tget_size(type);
  const bool sign = H5Tget_sign(type) == H5T_SGN_2;
  if (H5Tget_order(type) != H5T_ORDER_LE)
    throw Error(file, "dataset " + name, "big-endian pixels are not supported (expected little-endian)");
  switch (size) {
    case 1: return sign ? byte_offset::ElementType::i8 : byte_offset::ElementType::u8;
    case 2: return sign ? byte_offset::ElementType::i16 : byte_offset::ElementType::u16;
    case 4: return sign ? byte_offset::ElementType::i32 : byte_offset::ElementType::u32;
  }
  throw Error(file, "dataset " + name, std::to_string(size * 8) + "-bit pixels are not supported (8, 16 or 32)");
}

// The external link target of `name` in `group`, for messages ("" when it is not an external link).
std::string link_target(hid_t group, const std::string& name) {
  H5L_info_t info;
  if (H5Lget_info(group, name.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_EXTERNAL) return "";
  std::vector<char> buf(info.u.val_size + 1);
  if (H5Lget_val(group, name.c_str(), buf.data(), buf.size(), H5P_DEFAULT) < 0) return "";
  const char *file = nullptr, *obj = nullptr;
  unsigned flags = 0;
  if (H5Lunpack_elink_val(buf.data(), buf.size(), &flags, &file, &obj) < 0) return "";
  return std::string(file) + ":" + obj;
}

// Where frame i's chunk lies (its dataset, coordinates, file address and size).
struct ChunkAt {
  hid_t dataset = -1;
  int fd = -1;            // the data file for pread() (-1: H5Dread_chunk)
  uint64_t file_at = 0;   // the chunk's first byte in that file
  hsize_t off[3] = {0, 0, 0};
  haddr_t addr = 0;
  hsize_t size = 0;
};

}  // namespace

struct Hdf5FrameSource::Impl {
  // Frame i's chunk, with the frame's metadata (all but the payload) filled. Throws xrd::Error naming the frame.
  static ChunkAt locate_chunk(const Hdf5FrameSource& src, const Impl& m, size_t i, EncodedFrame& frame);
  std::vector<fs::path> paths, all_files;
  std::vector<Id> files;
  std::vector<Part> parts;
  size_t frames = 0, width = 0, height = 0;
  byte_offset::ElementType element = byte_offset::ElementType::u32;
  std::vector<uint8_t> mask;

  void open_part(hid_t data_group, const fs::path& file, const std::string& link, bool first_part) {
    Id dapl(H5Pcreate(H5P_DATASET_ACCESS));
    const std::string prefix = (file.parent_path().empty() ? fs::path(".") : file.parent_path()).string() + "/";
    H5Pset_elink_prefix(dapl.get(), prefix.c_str());
    Id d(H5Dopen2(data_group, link.c_str(), dapl.get()));
    const std::string where = "/entry/data/" + link;
    if (!d.ok()) {
      const std::string target = link_target(data_group, link);
      throw Error(file.string(), where,
                  target.empty() ? "cannot open the dataset (" + hdf5::last_message() + ")"
                                 : "cannot open the external link's target " + target + " (looked in " + prefix +
                                       "): " + hdf5::last_message());
    }
    Part p;
    {
      char buf[4096];
      const ssize_t n = H5Fget_name(d.get(), buf, sizeof buf);
      p.data_file = n > 0 ? std::string(buf, static_cast<size_t>(n)) : file.string();
      const ssize_t m = H5Iget_name(d.get(), buf, sizeof buf);
      p.name = m > 0 ? std::string(buf, static_cast<size_t>(m)) : where;
    }
    const std::string what = "dataset " + p.name;
    Id space(H5Dget_space(d.get()));
    hsize_t dims[3];
    if (H5Sget_simple_extent_ndims(space.get()) != 3)
      throw Error(p.data_file, what, "expected 3 dimensions (frames x height x width)");
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    Id type(H5Dget_type(d.get()));
    const byte_offset::ElementType el = element_of(type.get(), p.data_file, p.name);
    Id dcpl(H5Dget_create_plist(d.get()));
    hsize_t chunk[3] = {0, 0, 0};
    if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED || H5Pget_chunk(dcpl.get(), 3, chunk) != 3 || chunk[0] != 1 ||
        chunk[1] != dims[1] || chunk[2] != dims[2])
      throw Error(p.data_file, what,
                  "expected one frame per chunk (chunks of 1 x " + std::to_string(dims[1]) + " x " +
                      std::to_string(dims[2]) + ")");
    const int nf = H5Pget_nfilters(dcpl.get());
    unsigned flags = 0, cd[8] = {};
    size_t ncd = 8;
    const H5Z_filter_t f = nf == 1 ? H5Pget_filter2(dcpl.get(), 0, &flags, &ncd, cd, 0, nullptr, nullptr) : -1;
    if (nf != 1 || f != static_cast<H5Z_filter_t>(nxmx::kBitshuffleFilter) || (ncd > 4 && cd[4] != nxmx::kBitshuffleLz4))
      throw Error(p.data_file, what,
                  "expected the bitshuffle-LZ4 filter alone (HDF5 filter 32008 with LZ4), found " +
                      std::to_string(nf) + " filter(s)" +
                      (nf >= 1 ? ", the first " + std::to_string(f) + " with " + std::to_string(ncd) +
                                     " parameters" + (ncd > 4 ? " (compression " + std::to_string(cd[4]) + ")" : "")
                               : ""));
    if (first_part) {
      height = dims[1];
      width = dims[2];
      element = el;
    } else if (dims[1] != height || dims[2] != width || el != element) {
      throw Error(p.data_file, what,
                  "frames of " + std::to_string(dims[2]) + " x " + std::to_string(dims[1]) + " " +
                      byte_offset::to_string(el) + ", expected " + std::to_string(width) + " x " + std::to_string(height) +
                      " " + byte_offset::to_string(element) + " as in the first dataset");
    }
    {  // pread() needs one plain file (the default sec2 driver); with another driver chunks go through HDF5
      Id fid(H5Iget_file_id(d.get()));
      Id fapl(H5Fget_access_plist(fid.get()));
      Id fcpl(H5Fget_create_plist(fid.get()));
      hsize_t user_block = 0;
      if (fapl.ok() && fcpl.ok() && H5Pget_driver(fapl.get()) == H5FD_SEC2 &&
          H5Pget_userblock(fcpl.get(), &user_block) >= 0) {
        p.raw = Fd(::open(p.data_file.c_str(), O_RDONLY | O_CLOEXEC));
        p.base = user_block;
      }
    }
    p.frames = dims[0];
    p.first = frames;
    frames += p.frames;
    p.dataset = std::move(d);
    if (std::find(all_files.begin(), all_files.end(), fs::path(p.data_file)) == all_files.end())
      all_files.emplace_back(p.data_file);
    parts.push_back(std::move(p));
  }

  void read_mask(hid_t file, const fs::path& path) {
    for (const char* name : {"/entry/instrument/detector/pixel_mask",
                             "/entry/instrument/detector/detectorSpecific/pixel_mask"}) {
      if (H5Lexists(file, "/entry/instrument", H5P_DEFAULT) <= 0 ||
          H5Oexists_by_name(file, name, H5P_DEFAULT) <= 0)
        continue;
      Id d(H5Dopen2(file, name, H5P_DEFAULT));
      Id space(H5Dget_space(d.get()));
      hsize_t dims[2] = {0, 0};
      if (H5Sget_simple_extent_ndims(space.get()) != 2 || (H5Sget_simple_extent_dims(space.get(), dims, nullptr),
                                                            dims[0] != height || dims[1] != width))
        throw Error(path.string(), std::string("dataset ") + name,
                    "pixel_mask is not " + std::to_string(height) + " x " + std::to_string(width));
      std::vector<uint32_t> m(width * height);
      if (H5Dread(d.get(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.data()) < 0)
        throw Error(path.string(), std::string("dataset ") + name, "cannot read: " + hdf5::last_message());
      mask.resize(m.size());
      for (size_t i = 0; i < m.size(); ++i) mask[i] = m[i] != 0;
      return;
    }
  }

  const Part& part_of(size_t i, size_t& local) const {
    if (i >= frames) throw Error("", "", "frame " + std::to_string(i) + " out of range (" + std::to_string(frames) + ")");
    auto it = std::upper_bound(parts.begin(), parts.end(), i, [](size_t v, const Part& p) { return v < p.first; });
    const Part& p = *(it - 1);
    local = i - p.first;
    return p;
  }
};

Hdf5FrameSource::Hdf5FrameSource(std::vector<fs::path> paths, size_t max_frames) : impl_(std::make_unique<Impl>()) {
  hdf5::Quiet quiet;
  Impl& m = *impl_;
  m.paths = paths;
  if (paths.empty()) throw Error("", "", "no HDF5 files given");
  for (const auto& path : paths) {
    Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!file.ok()) throw Error(path.string(), "", "cannot open as HDF5: " + hdf5::last_message());
    m.all_files.push_back(path);
    if (H5Lexists(file.get(), "/entry", H5P_DEFAULT) <= 0 || H5Lexists(file.get(), "/entry/data", H5P_DEFAULT) <= 0)
      throw Error(path.string(), "group /entry/data", "absent: not an NXmx file (expected /entry/data/data_000001 "
                                                      "links or an /entry/data/data dataset)");
    Id group(H5Gopen2(file.get(), "/entry/data", H5P_DEFAULT));
    std::vector<std::string> names;
    H5Literate(
        group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
          const std::string s(name);
          if (s == "data" || (s.rfind("data_", 0) == 0 && s.size() > 5 &&
                              s.find_first_not_of("0123456789", 5) == std::string::npos))
            static_cast<std::vector<std::string>*>(out)->push_back(s);
          return 0;
        },
        &names);
    if (names.empty())
      throw Error(path.string(), "group /entry/data", "holds no data or data_NNNNNN dataset");
    for (const auto& n : names) m.open_part(group.get(), path, n, m.parts.empty());
    if (m.files.empty()) m.read_mask(file.get(), path);
    m.files.push_back(std::move(file));
  }
  if (m.frames == 0) throw Error(paths.front().string(), "/entry/data", "the datasets hold no frames");
  if (max_frames > 0 && m.frames > max_frames) m.frames = max_frames;  // later parts stay open, unused
}

Hdf5FrameSource::~Hdf5FrameSource() = default;

size_t Hdf5FrameSource::size() const { return impl_->frames; }
size_t Hdf5FrameSource::width() const { return impl_->width; }
size_t Hdf5FrameSource::height() const { return impl_->height; }
byte_offset::ElementType Hdf5FrameSource::element() const { return impl_->element; }
std::vector<uint8_t> Hdf5FrameSource::pixel_mask() const { return impl_->mask; }
std::vector<fs::path> Hdf5FrameSource::files() const { return impl_->all_files; }

std::string Hdf5FrameSource::origin(size_t i) const {
  size_t local = 0;
  const Part& p = impl_->part_of(i, local);
  return p.data_file + "::" + p.name + "[" + std::to_string(local) + "]";
}

size_t Hdf5FrameSource::max_frame_bytes() const {
  const size_t bytes = impl_->width * impl_->height * bslz4::element_size(impl_->element);
  const size_t blocks = bytes / 8192 + 2;
  return 12 + bytes + bytes / 255 + blocks * 20;  // LZ4's bound per block + the sizes + the header
}

void Hdf5FrameSource::load(size_t i, EncodedFrame& frame) const {
  hdf5::Quiet quiet;
  const ChunkAt c = Impl::locate_chunk(*this, *impl_, i, frame);
  frame.storage.resize(c.size);
  uint32_t fm = 0;
  if (H5Dread_chunk(c.dataset, H5P_DEFAULT, c.off, &fm, frame.storage.data()) < 0)
    throw Error(frame.origin, Error::at_byte(c.addr), "cannot read the chunk: " + hdf5::last_message());
  frame.payload = std::span<const uint8_t>(frame.storage.data(), frame.storage.size());
}

// The chunk as stored, read by HDF5 straight into the caller's memory (a device's pinned staging): no copy.
void Hdf5FrameSource::load_into(size_t i, EncodedFrame& frame, const PayloadClaim& claim) const {
  hdf5::Quiet quiet;
  const ChunkAt c = Impl::locate_chunk(*this, *impl_, i, frame);
  frame.storage.clear();
  frame.payload = {};
  const std::span<uint8_t> dst = claim(frame, c.size);
  if (c.fd >= 0) {  // the chunk's bytes as stored, read outside HDF5 (its lock): readers in parallel
    size_t got = 0;
    while (got < dst.size()) {
      const ssize_t n = ::pread(c.fd, dst.data() + got, dst.size() - got, static_cast<off_t>(c.file_at + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        throw Error(frame.origin, Error::at_byte(c.addr + got),
                    "cannot read the chunk (" + std::to_string(dst.size()) + " bytes): " +
                        (n < 0 ? std::string(std::strerror(errno)) : "the file ends after " + std::to_string(got)));
      got += static_cast<size_t>(n);
    }
  } else {
    uint32_t fm = 0;
    if (H5Dread_chunk(c.dataset, H5P_DEFAULT, c.off, &fm, dst.data()) < 0)
      throw Error(frame.origin, Error::at_byte(c.addr), "cannot read the chunk: " + hdf5::last_message());
  }
  frame.payload = std::span<const uint8_t>(dst.data(), dst.size());
}

ChunkAt Hdf5FrameSource::Impl::locate_chunk(const Hdf5FrameSource& src, const Impl& m, size_t i, EncodedFrame& frame) {
  size_t local = 0;
  const auto& p = m.part_of(i, local);
  frame.index = i;
  frame.origin = src.origin(i);
  frame.codec = Codec::bitshuffle_lz4;
  frame.element = m.element;
  frame.width = m.width;
  frame.height = m.height;
  frame.content_md5.reset();
  ChunkAt c;
  c.dataset = p.dataset.get();
  c.fd = p.raw.fd;
  c.off[0] = local;
  unsigned filter_mask = 0;
  if (H5Dget_chunk_info_by_coord(c.dataset, c.off, &filter_mask, &c.addr, &c.size) < 0 || c.addr == HADDR_UNDEF)
    throw Error(frame.origin, "", "the frame's chunk was never written (no chunk at frame " + std::to_string(local) +
                                      ")");
  if (filter_mask != 0)
    throw Error(frame.origin, Error::at_byte(c.addr), "chunk stored with the bitshuffle-LZ4 filter skipped (filter "
                                                      "mask " + std::to_string(filter_mask) + "): not supported");
  if (c.size > src.max_frame_bytes())
    throw Error(frame.origin, Error::at_byte(c.addr),
                "chunk of " + std::to_string(c.size) + " bytes, more than bitshuffle-LZ4 can take for a frame (" +
                    std::to_string(src.max_frame_bytes()) + ")");
  frame.payload_offset = c.addr;
  c.file_at = p.base + c.addr;
  return c;
}

void Hdf5FrameSource::read_filtered(size_t i, std::span<int32_t> out) const {
  hdf5::Quiet quiet;
  size_t local = 0;
  const Part& p = impl_->part_of(i, local);
  const std::string org = origin(i);
  if (out.size() != impl_->width * impl_->height)
    throw Error(org, "", "output holds " + std::to_string(out.size()) + " pixels, expected " +
                             std::to_string(impl_->width * impl_->height));
  Id space(H5Dget_space(p.dataset.get()));
  hsize_t start[3] = {local, 0, 0}, count[3] = {1, impl_->height, impl_->width};
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  Id mem(H5Screate_simple(3, count, nullptr));
  if (H5Dread(p.dataset.get(), H5T_NATIVE_INT32, mem.get(), space.get(), H5P_DEFAULT, out.data()) < 0)
    throw Error(org, "", "cannot read through the HDF5 filter pipeline (is the bitshuffle plugin installed, "
                         "HDF5_PLUGIN_PATH?): " + hdf5::last_message());
  // HDF5 converts uint32 values above INT32_MAX to INT32_MAX (it clips); the seam wraps them, as a memcpy would.
  if (impl_->element == byte_offset::ElementType::u32) {
    std::vector<uint32_t> raw(out.size());
    if (H5Dread(p.dataset.get(), H5T_NATIVE_UINT32, mem.get(), space.get(), H5P_DEFAULT, raw.data()) < 0)
      throw Error(org, "", "cannot read through the HDF5 filter pipeline: " + hdf5::last_message());
    std::memcpy(out.data(), raw.data(), raw.size() * 4);
  }
  nxmx::mask_overflow(out, impl_->element);
}

}  // namespace xrd::frames
