// How frame files are read (`--read-method`): pread (plain positional reads), mmap (map the file, MAP_POPULATE, then
// copy), direct (O_DIRECT: around the page cache, aligned requests through an aligned bounce buffer, or in place
// when the whole file is read), uring (io_uring, liburing: a payload split into several requests in flight per
// reader). A method the file or the kernel refuses (tmpfs refuses O_DIRECT; io_uring disabled or absent) falls back
// to pread (tmpfs refuses O_DIRECT before Linux 6.6, procfs always): FileReader::method() says what was used, fallback() why, and the first fallback of each kind is said once
// on stderr.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xrd::io {

enum class ReadMethod : uint8_t { pread, mmap, direct, uring };
const char* to_string(ReadMethod m);  // "pread" | "mmap" | "direct" | "uring"
// Throws xrd::Error naming `field` (e.g. "--read-method") and the accepted names.
ReadMethod parse_read_method(const std::string& s, const std::string& field = "--read-method");
const std::vector<ReadMethod>& all_read_methods();
// Whether io_uring can be used in this process (liburing built in, the kernel allows a ring).
bool uring_available();

// One open regular file read with a method. Throws xrd::Error naming the file (and the byte offset of a failed or
// short read).
class FileReader {
 public:
  FileReader(const std::string& path, ReadMethod m);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  uint64_t size() const { return size_; }
  ReadMethod method() const { return method_; }  // the method used (pread after a fallback)
  const std::string& fallback() const { return fallback_; }  // why the asked method was not used ("" = it was)

  // Exactly dst.size() bytes from `offset`; a file shorter than offset + dst.size() throws naming the byte where it
  // ended.
  void read(std::span<uint8_t> dst, uint64_t offset);
  // The whole file into `storage` (resized; direct: the view starts at an aligned place inside it). Returns the view.
  std::span<uint8_t> read_all(std::vector<uint8_t>& storage);
  // The bytes read_all_into() needs for this file: its size, and for direct the size on whole blocks plus one block
  // (the view starts at the first aligned address of the room).
  size_t room_for_all() const;
  // The whole file with one request per 4 MiB into caller memory (a device's pinned staging), at least
  // room_for_all() bytes: pread in place; direct straight into the room's first 4096-aligned address (no bounce, no
  // copy). Returns the view (size() bytes). Throws as read() does, and when the room is too small.
  std::span<uint8_t> read_all_into(std::span<uint8_t> room);

 private:
  void fall_back(std::string why);
  void read_pread(std::span<uint8_t> dst, uint64_t offset);
  void read_direct(std::span<uint8_t> dst, uint64_t offset);
  bool read_uring(std::span<uint8_t> dst, uint64_t offset);  // false: the ring is unavailable (fell back)

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  ReadMethod method_;
  std::string fallback_;
  void* map_ = nullptr;  // mmap: the whole file
};

}  // namespace xrd::io
