// Guest: one instance of a wasm32-wasi module, engine-independent. It owns
// the engine adapter, the WASI state, and the guest's WASIX contexts, each a
// switchyard context made through the C API (include/switchyard/switchyard.h)
// with its own shadow stack in linear memory. Traps, proc_exit and returning
// entrypoints end the guest with an exit status (SPEC "WebAssembly host").
//
// All of a Guest's methods run on the thread of the switchyard environment
// it runs in (sy_run_main or an Executor environment).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine.hpp"
#include "module_info.hpp"
#include "wasi.hpp"

namespace switchyard_wasm {

class Guest;

/// A host function a guest may import: module, name, signature and the
/// handler. Handlers get the arguments widened to u64 and return the result
/// (ignored for "" results).
using ImportHandler = uint64_t (*)(Guest&, const uint64_t* args);
struct HostFunction {
  const char* module;
  const char* name;
  const char* params;  // Signature letters, see module_info.hpp
  const char* results;
  ImportHandler handler;
};

struct GuestOptions {
  std::string engine = "interp";
  std::vector<Preopen> dirs;
  std::vector<std::string> env;  // NAME=VALUE
  size_t stack_size = 0;         // native stack of each context; 0: switchyard's default
  std::string module_path;
  std::vector<std::string> args;  // argv as the guest sees it; argv[0] is the module path
};

/// Bounds-checked access to the guest's linear memory. Addresses are wasm32
/// offsets; every accessor re-reads the engine's base, which moves when the
/// memory grows.
class GuestMemory {
 public:
  explicit GuestMemory(Engine*& engine) : engine_(engine) {}
  bool valid(uint64_t offset, uint64_t length) const {
    return offset + length <= engine_->memory_size() && offset + length >= offset;
  }
  uint8_t* at(uint64_t offset) const { return engine_->memory_data() + offset; }
  uint32_t u32(uint64_t offset) const;
  uint64_t u64(uint64_t offset) const;
  void put_u8(uint64_t offset, uint8_t value) const { *at(offset) = value; }
  void put_u16(uint64_t offset, uint16_t value) const;
  void put_u32(uint64_t offset, uint32_t value) const;
  void put_u64(uint64_t offset, uint64_t value) const;

 private:
  Engine*& engine_;
};

class Guest {
 public:
  explicit Guest(GuestOptions options);
  ~Guest();
  Guest(const Guest&) = delete;
  Guest& operator=(const Guest&) = delete;

  /// Reads, checks and instantiates the module. On failure returns false
  /// with a message naming the module and what is wrong (exit status 2).
  bool load(std::string& error);
  /// Runs _start and the contexts it makes until the guest ends; returns
  /// its exit status. Call inside a switchyard environment (sy_run_main or
  /// an Executor environment), once. Every context is gone afterwards.
  int run();

  // --- for engine adapters --------------------------------------------------
  const HostFunction& import(size_t index) const { return *imports_[index]; }
  size_t import_count() const { return imports_.size(); }
  /// Calls import `index`. Afterwards, must_unwind() says whether the engine
  /// has to end the running context's wasm stack (as a trap) instead of
  /// returning to guest code.
  uint64_t call_import(size_t index, const uint64_t* args) { return imports_[index]->handler(*this, args); }
  bool must_unwind() const;
  /// The guest trapped in the running context (`name` is canonical).
  void trapped(const std::string& name);
  const ModuleInfo& info() const { return info_; }
  const GuestOptions& options() const { return options_; }
  /// The guest whose code runs on this thread right now (for trap handlers
  /// that get no instance pointer).
  static Guest* current();

  // --- for host functions ---------------------------------------------------
  GuestMemory& memory() { return memory_; }
  Wasi& wasi() { return wasi_; }
  Engine& engine() { return *engine_; }
  /// Ends the guest with `status`; `message` (if any) goes to stderr. The
  /// running context then unwinds; the first termination wins.
  void terminate(int status, const std::string& message);
  /// Parks the running context's engine state around a blocking host call
  /// (an Executor may run other guests meanwhile).
  void before_blocking();
  void after_blocking();

  // WASIX contexts (module wasix_32v1); results are WASI errno values.
  uint32_t context_create(uint32_t id_pointer, uint32_t entrypoint);
  uint32_t context_switch(uint64_t target);
  /// context_switch for engines that call it directly rather than through
  /// call_import (aot): the fewer frames between guest code and the stack
  /// switch, the fewer mispredicted returns after it. Returns nonzero when
  /// the running context must unwind; the WASI errno goes to *result.
  static int switch_for_engine(void* guest, uint64_t target, uint32_t* result);
  uint32_t context_destroy(uint64_t target);

  /// Every host function the guest may import.
  static const std::vector<HostFunction>& host_functions();

 private:
  struct Context;
  struct Region {
    uint32_t base = 0;  // lowest address
    uint32_t top = 0;   // initial stack pointer (the stack grows down)
  };

  static void trampoline(void* context);
  uint64_t finish_entry(Context& context);
  void switch_into(Context& target);
  void discard(Context& context);
  void apply_stack(Context& context);
  bool allocate_region(Region& region);
  void name_context(Context& context, char* out, size_t size) const;

  GuestOptions options_;
  ModuleInfo info_;
  std::vector<uint8_t> bytes_;
  std::vector<const HostFunction*> imports_;
  std::unique_ptr<Engine> engine_holder_;
  Engine* engine_ = nullptr;
  GuestMemory memory_{engine_};
  Wasi wasi_;

  std::map<uint64_t, std::unique_ptr<Context>> contexts_;  // by switchyard ID; 0 is main
  Context* active_ = nullptr;
  Context* main_ = nullptr;
  uint32_t region_size_ = 0;
  std::vector<Region> free_regions_;
  bool stack_limits_ = false;

  bool terminated_ = false;
  int status_ = 0;
};

}  // namespace switchyard_wasm
