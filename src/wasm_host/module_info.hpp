// ModuleInfo: the few facts about a wasm32 module that the host needs before
// any engine sees it: its function imports (module, name, signature), its
// exports, the initial value of global 0 (wasm-ld's __stack_pointer) and the
// end of its data segments. Engine-independent; validation proper is the
// engine's job (wabt's reader or wasm2c).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace switchyard_wasm {

/// A function signature as a compact string: one letter per value type
/// ('i' i32, 'I' i64, 'f' f32, 'F' f64, '?' anything else), e.g. "iIi".
struct Signature {
  std::string params;
  std::string results;
  bool operator==(const Signature& other) const { return params == other.params && results == other.results; }
};

struct FunctionImport {
  std::string module;
  std::string name;
  Signature signature;
};

struct ModuleInfo {
  std::vector<FunctionImport> function_imports;
  std::vector<std::string> other_imports;  // "module.name (kind)" of non-function imports
  std::vector<std::string> exports;
  bool has_memory = false;           // defined (not imported) memory 0
  bool stack_pointer_known = false;  // global 0 is a defined mutable i32 with an i32.const init
  uint32_t initial_stack_pointer = 0;
  uint32_t data_end = 0;              // highest end of an active data segment at an i32.const offset
  uint32_t lowest_data = UINT32_MAX;  // lowest start of such a segment

  bool exports_name(const std::string& name) const;
  /// The size of the stack wasm-ld gave the module (-z stack-size), as far
  /// as the layout shows it; 0 when unknown.
  uint32_t linked_stack_size() const;
};

/// Parses `bytes`. On malformed input returns false with `error` set.
bool parse_module(const std::vector<uint8_t>& bytes, ModuleInfo& out, std::string& error);

}  // namespace switchyard_wasm
