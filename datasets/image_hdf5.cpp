// One 2D dataset of an HDF5 file (h5py, silx, pyFAI write them), read through the HDF5 C API, converted by HDF5
// to double. Integer and float datasets, any filter the library (and its plugins) decodes.
#include <hdf5.h>

#include <vector>

#include "datasets/image_formats.hpp"
#include "base/error.hpp"

namespace xrd::image_io::detail {

namespace {

// Silences HDF5's error printing while alive; errors are reported through xrd::Error.
struct QuietErrors {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

// The file's handle: on close, whatever is still open in the file is closed too, and a handle a corrupt file
// would not let go of is released (otherwise HDF5 loops at exit, "infinite loop closing library", status 1).
struct File {
  hid_t id = -1;
  explicit File(hid_t i) : id(i) {}
  ~File() {
    if (id < 0) return;
    const ssize_t n = H5Fget_obj_count(id, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR |
                                               H5F_OBJ_LOCAL);
    if (n > 0) {
      std::vector<hid_t> ids(static_cast<size_t>(n));
      const ssize_t got = H5Fget_obj_ids(
          id, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL, ids.size(),
          ids.data());
      for (ssize_t k = 0; k < got; ++k)
        while (H5Iis_valid(ids[k]) > 0 && H5Idec_ref(ids[k]) >= 0) {
        }
    }
    if (H5Fclose(id) < 0)
      while (H5Iis_valid(id) > 0 && H5Idec_ref(id) >= 0) {
      }
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
};

struct Id {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Id() {
    if (id >= 0) close(id);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
};

}  // namespace

Image read_hdf5(const std::filesystem::path& p, const std::string& dataset) {
  const std::string name = p.string() + "::" + dataset;
  QuietErrors quiet;
  // Closing the file closes whatever a failed read left open in it (a corrupt file can fail half-way).
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl.id, H5F_CLOSE_STRONG);
  File file(H5Fopen(p.c_str(), H5F_ACC_RDONLY, fapl.id));
  if (file.id < 0) {
    // Known: HDF5 1.10.8 leaks internal state on some corrupt superblocks and then prints "infinite loop closing
    // library" at exit; the error below is still reported first, and the exit status is already non-zero.
    throw Error(p.string(), "", "cannot open the HDF5 file (not HDF5, or a corrupt superblock)");
  }
  if (H5Lexists(file.id, dataset.c_str(), H5P_DEFAULT) <= 0)
    throw Error(name, "", "no dataset " + dataset + " in the file (expected FILE::/path/to/dataset)");
  Id ds(H5Dopen2(file.id, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) throw Error(name, "", dataset + " is not a dataset");
  Id type(H5Dget_type(ds.id), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.id);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw Error(name, "datatype", "the dataset's elements are not integers or floats");
  const size_t bytes = H5Tget_size(type.id);
  const bool is_signed = cls == H5T_FLOAT || H5Tget_sign(type.id) == H5T_SGN_2;
  Id space(H5Dget_space(ds.id), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id);
  hsize_t dims[3] = {0, 0, 0};
  if (rank < 2 || rank > 3) throw Error(name, "dataspace", "rank " + std::to_string(rank) + ": expected a 2D image");
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  if (rank == 3 && dims[0] != 1)
    throw Error(name, "dataspace",
                std::to_string(dims[0]) + " frames: expected one 2D image (or a stack of one frame)");
  Image img;
  img.format = "HDF5";
  img.height = static_cast<size_t>(dims[rank - 2]);
  img.width = static_cast<size_t>(dims[rank - 1]);
  check_extent(name, "dataspace", img.width, img.height);
  img.type = std::string(cls == H5T_FLOAT ? "float" : (is_signed ? "int" : "uint")) + std::to_string(8 * bytes);
  check_decoded_size(name, "dataspace", img.width * img.height * sizeof(double),
                     static_cast<size_t>(H5Dget_storage_size(ds.id)));
  img.pixels.resize(img.width * img.height);
  if (H5Dread(ds.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, img.pixels.data()) < 0)
    throw Error(name, "data", "cannot be read (a filter whose plugin is missing, or a corrupt chunk)");
  return img;
}

}  // namespace xrd::image_io::detail
