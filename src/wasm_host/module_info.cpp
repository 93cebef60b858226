#include "module_info.hpp"

#include <algorithm>
#include <stdexcept>

namespace switchyard_wasm {
namespace {

class Reader {
 public:
  Reader(const uint8_t* begin, const uint8_t* end) : p_(begin), end_(end) {}
  bool done() const { return p_ >= end_; }
  uint8_t byte() {
    if (p_ >= end_) throw std::runtime_error("unexpected end of module");
    return *p_++;
  }
  uint64_t uleb() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = byte();
      value |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    throw std::runtime_error("bad LEB128");
  }
  int64_t sleb() {
    int64_t value = 0;
    int shift = 0;
    uint8_t b;
    do {
      b = byte();
      value |= int64_t(b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) != 0 && shift < 64);
    if (shift < 64 && (b & 0x40) != 0) value |= -(int64_t(1) << shift);
    return value;
  }
  std::string name() {
    const uint64_t n = uleb();
    if (uint64_t(end_ - p_) < n) throw std::runtime_error("name runs past the end");
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  void skip(uint64_t n) {
    if (uint64_t(end_ - p_) < n) throw std::runtime_error("section runs past the end");
    p_ += n;
  }
  const uint8_t* here() const { return p_; }
  void limits() {
    const uint8_t flags = byte();
    uleb();
    if (flags & 1) uleb();
  }
  // A constant expression; returns its value if it is a single i32.const.
  bool const_expr(int64_t& value) {
    bool is_i32 = false;
    for (;;) {
      const uint8_t op = byte();
      if (op == 0x0b) return is_i32;
      switch (op) {
        case 0x41:
          value = sleb();
          is_i32 = true;
          break;
        case 0x42:
          sleb();
          is_i32 = false;
          break;
        case 0x43:
          skip(4);
          is_i32 = false;
          break;
        case 0x44:
          skip(8);
          is_i32 = false;
          break;
        case 0x23:
          uleb();
          is_i32 = false;
          break;  // global.get
        case 0xd2:
          uleb();
          is_i32 = false;
          break;  // ref.func
        case 0xd0:
          byte();
          is_i32 = false;
          break;  // ref.null
        default:
          is_i32 = false;
          break;  // extended const: opaque
      }
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

char letter(uint8_t type) {
  switch (type) {
    case 0x7f:
      return 'i';
    case 0x7e:
      return 'I';
    case 0x7d:
      return 'f';
    case 0x7c:
      return 'F';
    default:
      return '?';
  }
}

}  // namespace

bool ModuleInfo::exports_name(const std::string& name) const {
  return std::find(exports.begin(), exports.end(), name) != exports.end();
}

uint32_t ModuleInfo::linked_stack_size() const {
  if (!stack_pointer_known) return 0;
  // wasm-ld puts the stack after the data (the default) or, with
  // --stack-first, below it, from address 0 (plus the global base).
  if (initial_stack_pointer > data_end) return initial_stack_pointer - data_end;
  if (initial_stack_pointer <= lowest_data) return initial_stack_pointer;
  return 0;
}

bool parse_module(const std::vector<uint8_t>& bytes, ModuleInfo& out, std::string& error) {
  static const uint8_t magic[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  if (bytes.size() < 8 || !std::equal(magic, magic + 8, bytes.begin())) {
    error = "not a WebAssembly binary module (bad magic number or version)";
    return false;
  }
  try {
    std::vector<Signature> types;
    uint32_t imported_globals = 0;
    Reader r(bytes.data() + 8, bytes.data() + bytes.size());
    while (!r.done()) {
      const uint8_t id = r.byte();
      const uint64_t size = r.uleb();
      Reader s(r.here(), r.here() + size);
      r.skip(size);
      switch (id) {
        case 1: {  // types
          for (uint64_t n = s.uleb(); n > 0; --n) {
            if (s.byte() != 0x60) throw std::runtime_error("unsupported type form");
            Signature sig;
            for (uint64_t k = s.uleb(); k > 0; --k) sig.params += letter(s.byte());
            for (uint64_t k = s.uleb(); k > 0; --k) sig.results += letter(s.byte());
            types.push_back(sig);
          }
          break;
        }
        case 2: {  // imports
          for (uint64_t n = s.uleb(); n > 0; --n) {
            std::string module = s.name();
            std::string name = s.name();
            const uint8_t kind = s.byte();
            if (kind == 0) {
              const uint64_t type = s.uleb();
              if (type >= types.size()) throw std::runtime_error("import type index out of range");
              out.function_imports.push_back({module, name, types[type]});
              continue;
            }
            const char* what = "?";
            if (kind == 1) {
              what = "table";
              s.byte();
              s.limits();
            } else if (kind == 2) {
              what = "memory";
              s.limits();
            } else if (kind == 3) {
              what = "global";
              s.byte();
              s.byte();
              ++imported_globals;
            } else if (kind == 4) {
              what = "tag";
              s.byte();
              s.uleb();
            } else
              throw std::runtime_error("unknown import kind");
            out.other_imports.push_back(module + "." + name + " (" + what + ")");
          }
          break;
        }
        case 5:  // memories
          out.has_memory = s.uleb() > 0;
          break;
        case 6: {  // globals
          const uint64_t n = s.uleb();
          for (uint64_t i = 0; i < n; ++i) {
            const uint8_t type = s.byte();
            const uint8_t mut = s.byte();
            int64_t value = 0;
            const bool is_const = s.const_expr(value);
            if (i == 0 && imported_globals == 0 && type == 0x7f && mut == 1 && is_const) {
              out.stack_pointer_known = true;
              out.initial_stack_pointer = uint32_t(value);
            }
          }
          break;
        }
        case 7: {  // exports
          for (uint64_t n = s.uleb(); n > 0; --n) {
            out.exports.push_back(s.name());
            s.byte();
            s.uleb();
          }
          break;
        }
        case 11: {  // data
          for (uint64_t n = s.uleb(); n > 0; --n) {
            const uint64_t flags = s.uleb();
            int64_t offset = 0;
            bool known = false;
            if (flags == 0 || flags == 2) {
              if (flags == 2) s.uleb();
              known = s.const_expr(offset);
            }
            const uint64_t length = s.uleb();
            s.skip(length);
            if (known) {
              out.data_end = std::max<uint32_t>(out.data_end, uint32_t(offset + length));
              out.lowest_data = std::min<uint32_t>(out.lowest_data, uint32_t(offset));
            }
          }
          break;
        }
        default:
          break;
      }
    }
  } catch (const std::exception& e) {
    error = std::string("malformed module: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace switchyard_wasm
