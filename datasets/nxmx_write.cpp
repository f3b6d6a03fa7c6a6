// The NXmx writer: a master file with the detector metadata, the pixel mask and /entry/data links, data files of
// frames_per_file frames each, every frame one chunk written as encoded (H5Dwrite_chunk) with the bitshuffle-LZ4
// filter declared in the dataset's pipeline so that readers going through HDF5's filters (h5py + the plugin) decode
// it. Data files are created when their first frame arrives; calls are serialized by a mutex.
#include <hdf5.h>

#include <mutex>

#include "datasets/nxmx.hpp"
#include "datasets/hdf5.hpp"
#include "kernels/bslz4.hpp"
#include "base/error.hpp"

namespace xrd::nxmx {

namespace fs = std::filesystem;
using hdf5::Id;

namespace {

hid_t file_type(byte_offset::ElementType t) {
  switch (t) {
    case byte_offset::ElementType::u16: return H5T_STD_U16LE;
    case byte_offset::ElementType::u32: return H5T_STD_U32LE;
    case byte_offset::ElementType::i32: return H5T_STD_I32LE;
    default: throw std::invalid_argument(std::string("nxmx::Writer: element type ") + byte_offset::to_string(t) +
                                         " is not written (uint16, uint32 or int32)");
  }
}

void check(herr_t st, const fs::path& file, const std::string& what) {
  if (st < 0) throw Error(file.string(), what, "HDF5 write failed: " + hdf5::last_message());
}

void attr(hid_t obj, const char* name, const std::string& value, const fs::path& file) {
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), value.size() + 1);
  H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
  Id space(H5Screate(H5S_SCALAR));
  Id a(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  check(a.ok() ? H5Awrite(a.get(), type.get(), value.c_str()) : -1, file, std::string("attribute ") + name);
}

Id group(hid_t parent, const char* name, const char* nx_class, const fs::path& file) {
  Id g(H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g.ok()) throw Error(file.string(), std::string("group ") + name, "cannot create: " + hdf5::last_message());
  attr(g.get(), "NX_class", nx_class, file);
  return g;
}

void scalar(hid_t parent, const char* name, double v, const char* units, const fs::path& file) {
  Id space(H5Screate(H5S_SCALAR));
  Id d(H5Dcreate2(parent, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  check(d.ok() ? H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) : -1, file, name);
  if (units) attr(d.get(), "units", units, file);
}

std::string data_name(size_t k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "data_%06zu", k);
  return buf;
}

}  // namespace

struct Writer::Impl {
  fs::path master_path;
  WriteOptions opt;
  std::mutex mu;
  Id master, master_data;
  std::vector<Id> data_files, datasets;  // per data file (index k - 1 for data_00000k)
  std::vector<fs::path> written;
  bool closed = false;

  size_t files_needed() const {
    return opt.frames_per_file == 0 ? 1 : (opt.frames + opt.frames_per_file - 1) / opt.frames_per_file;
  }

  fs::path data_path(size_t k) const {
    std::string stem = master_path.stem().string();
    const std::string suffix = "_master";
    if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0)
      stem.resize(stem.size() - suffix.size());
    return master_path.parent_path() / (stem + "_" + data_name(k + 1) + ".h5");
  }

  // Creates the frames x height x width dataset `name` in `parent` with one-frame chunks and the filter declared.
  Id create_frames(hid_t parent, const char* name, size_t frames, const fs::path& file) {
    const hsize_t dims[3] = {frames, opt.height, opt.width};
    const hsize_t chunk[3] = {1, opt.height, opt.width};
    Id space(H5Screate_simple(3, dims, nullptr));
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), 3, chunk);
    // bitshuffle's stored cd_values: version major, minor, element size, block size (0 = default), compression
    // (2 = LZ4). With the plugin loaded, its set_local prepends the first three to what we pass (block, compression);
    // without it, we store all five ourselves. OPTIONAL: files can be written where the plugin is absent.
    const unsigned full[5] = {0, 3, static_cast<unsigned>(bslz4::element_size(opt.element)), 0, kBitshuffleLz4};
    const bool plugin = H5Zfilter_avail(kBitshuffleFilter) > 0;
    check(H5Pset_filter(dcpl.get(), kBitshuffleFilter, H5Z_FLAG_OPTIONAL, plugin ? 2 : 5, plugin ? full + 3 : full),
          file, "filter 32008");
    // Chunks are only ever written whole and directly: no fill, no early allocation.
    H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
    H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_INCR);
    Id d(H5Dcreate2(parent, name, file_type(opt.element), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!d.ok()) throw Error(file.string(), std::string("dataset ") + name, "cannot create: " + hdf5::last_message());
    return d;
  }

  void open_master() {
    master = Id(H5Fcreate(master_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (!master.ok()) throw Error(master_path.string(), "", "cannot create: " + hdf5::last_message());
    written.push_back(master_path);
    Id entry = group(master.get(), "entry", "NXentry", master_path);
    {
      Id space(H5Screate(H5S_SCALAR));
      attr(entry.get(), "default", "data", master_path);
      Id t(H5Tcopy(H5T_C_S1));
      H5Tset_size(t.get(), 5);
      Id d(H5Dcreate2(entry.get(), "definition", t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      check(d.ok() ? H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, "NXmx") : -1, master_path,
            "definition");
    }
    Id instrument = group(entry.get(), "instrument", "NXinstrument", master_path);
    Id detector = group(instrument.get(), "detector", "NXdetector", master_path);
    scalar(detector.get(), "x_pixel_size", opt.pixel_size_m, "m", master_path);
    scalar(detector.get(), "y_pixel_size", opt.pixel_size_m, "m", master_path);
    scalar(detector.get(), "detector_distance", opt.distance_m, "m", master_path);
    scalar(detector.get(), "beam_center_x", opt.beam_center_x_px, "pixel", master_path);
    scalar(detector.get(), "beam_center_y", opt.beam_center_y_px, "pixel", master_path);
    scalar(detector.get(), "bit_depth_image", static_cast<double>(byte_offset::bits(opt.element)), nullptr, master_path);
    attr(detector.get(), "description", opt.description, master_path);
    if (!opt.pixel_mask.empty()) {
      if (opt.pixel_mask.size() != opt.width * opt.height)
        throw std::invalid_argument("nxmx::Writer: pixel_mask of " + std::to_string(opt.pixel_mask.size()) +
                                    " pixels, expected width x height");
      std::vector<uint32_t> m(opt.pixel_mask.begin(), opt.pixel_mask.end());
      for (auto& v : m) v = v != 0;
      const hsize_t dims[2] = {opt.height, opt.width};
      Id space(H5Screate_simple(2, dims, nullptr));
      Id dcpl(H5Pcreate(H5P_DATASET_CREATE));  // deflate (built into HDF5): a mask is mostly zeros
      H5Pset_chunk(dcpl.get(), 2, dims);
      H5Pset_deflate(dcpl.get(), 4);
      Id d(H5Dcreate2(detector.get(), "pixel_mask", H5T_STD_U32LE, space.get(), H5P_DEFAULT, dcpl.get(),
                      H5P_DEFAULT));
      check(d.ok() ? H5Dwrite(d.get(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.data()) : -1,
            master_path, "pixel_mask");
    }
    Id beam = group(instrument.get(), "beam", "NXbeam", master_path);
    scalar(beam.get(), "incident_wavelength", opt.wavelength_m * 1e10, "angstrom", master_path);
    master_data = group(entry.get(), "data", "NXdata", master_path);
    attr(master_data.get(), "signal", opt.frames_per_file == 0 ? "data" : "data_000001", master_path);
    const size_t n = files_needed();
    data_files.resize(n);
    datasets.resize(n);
    if (opt.frames_per_file == 0) {
      datasets[0] = create_frames(master_data.get(), "data", opt.frames, master_path);
      return;
    }
    for (size_t k = 0; k < n; ++k) {
      const std::string target = data_path(k).filename().string();
      check(H5Lcreate_external(target.c_str(), "/entry/data/data", master_data.get(), data_name(k + 1).c_str(),
                               H5P_DEFAULT, H5P_DEFAULT),
            master_path, "link /entry/data/" + data_name(k + 1));
    }
  }

  hid_t dataset_for(size_t frame, size_t& local) {
    if (opt.frames_per_file == 0) {
      local = frame;
      return datasets[0].get();
    }
    const size_t k = frame / opt.frames_per_file;
    local = frame % opt.frames_per_file;
    if (!datasets[k].ok()) {
      const fs::path path = data_path(k);
      data_files[k] = Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      if (!data_files[k].ok()) throw Error(path.string(), "", "cannot create: " + hdf5::last_message());
      written.push_back(path);
      Id entry = group(data_files[k].get(), "entry", "NXentry", path);
      Id data = group(entry.get(), "data", "NXdata", path);
      const size_t frames = std::min(opt.frames_per_file, opt.frames - k * opt.frames_per_file);
      datasets[k] = create_frames(data.get(), "data", frames, path);
      // Dectris' data files say which images they hold (1-based).
      for (auto [name, v] : {std::pair{"image_nr_low", k * opt.frames_per_file + 1},
                             std::pair{"image_nr_high", k * opt.frames_per_file + frames}}) {
        Id space(H5Screate(H5S_SCALAR));
        Id a(H5Acreate2(datasets[k].get(), name, H5T_STD_U64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
        const uint64_t value = v;
        check(a.ok() ? H5Awrite(a.get(), H5T_NATIVE_UINT64, &value) : -1, path, name);
      }
    }
    return datasets[k].get();
  }
};

Writer::Writer(const fs::path& master, const WriteOptions& opt) : impl_(std::make_unique<Impl>()) {
  if (opt.width == 0 || opt.height == 0 || opt.frames == 0)
    throw std::invalid_argument("nxmx::Writer: width, height and frames must be at least 1");
  file_type(opt.element);
  hdf5::Quiet quiet;
  impl_->master_path = master;
  impl_->opt = opt;
  impl_->open_master();
}

Writer::~Writer() {
  try {
    close();
  } catch (...) {
  }
}

void Writer::write(size_t frame, std::span<const int32_t> values) {
  if (values.size() != impl_->opt.width * impl_->opt.height)
    throw std::invalid_argument("nxmx::Writer::write: " + std::to_string(values.size()) + " values, expected " +
                                std::to_string(impl_->opt.width * impl_->opt.height));
  const auto bytes = bslz4::to_element_bytes(values, impl_->opt.element);
  write_chunk(frame, bslz4::encode(bytes, bslz4::element_size(impl_->opt.element)));
}

void Writer::write_chunk(size_t frame, std::span<const uint8_t> chunk) {
  std::lock_guard lock(impl_->mu);
  hdf5::Quiet quiet;
  if (impl_->closed) throw std::logic_error("nxmx::Writer: write after close");
  if (frame >= impl_->opt.frames)
    throw std::invalid_argument("nxmx::Writer: frame " + std::to_string(frame) + " out of range (" +
                                std::to_string(impl_->opt.frames) + ")");
  size_t local = 0;
  const hid_t d = impl_->dataset_for(frame, local);
  const hsize_t off[3] = {local, 0, 0};
  check(H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, chunk.size(), chunk.data()),
        impl_->written.back(), "frame " + std::to_string(frame) + " (direct chunk write)");
}

void Writer::close() {
  std::lock_guard lock(impl_->mu);
  if (impl_->closed) return;
  impl_->closed = true;
  hdf5::Quiet quiet;
  impl_->datasets.clear();
  impl_->data_files.clear();
  impl_->master_data.reset();
  if (impl_->master.ok() && H5Fclose(impl_->master.get()) < 0) {
    impl_->master = Id();
    throw Error(impl_->master_path.string(), "", "close failed: " + hdf5::last_message());
  }
  // The id was closed above: forget it without closing again.
  impl_->master = Id();
}

std::vector<fs::path> Writer::files() const { return impl_->written; }

}  // namespace xrd::nxmx
