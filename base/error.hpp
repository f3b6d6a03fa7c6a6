// xrd::Error: an error that says where (file, field or byte offset) and what was expected.
// Every layer throws it; a layer that knows more (the file name) re-throws it with that context added.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace xrd {

class Error : public std::runtime_error {
 public:
  // file: path or "" when unknown; where: "byte 1234", "field X-Binary-Size", "line 7", ...; what: what is wrong
  // and what was expected.
  Error(std::string file, std::string where, std::string what)
      : std::runtime_error(format(file, where, what)),
        file_(std::move(file)),
        where_(std::move(where)),
        what_(std::move(what)) {}

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  const std::string& reason() const { return what_; }

  // The same error, naming the file it happened in.
  Error with_file(const std::string& file) const { return Error(file, where_, what_); }

  static std::string at_byte(uint64_t offset) { return "byte " + std::to_string(offset); }
  static std::string at_field(const std::string& field) { return "field " + field; }

 private:
  static std::string format(const std::string& file, const std::string& where, const std::string& what) {
    std::string s;
    if (!file.empty()) s += file + ": ";
    if (!where.empty()) s += where + ": ";
    return s + what;
  }
  std::string file_, where_, what_;
};

}  // namespace xrd
