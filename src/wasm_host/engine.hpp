// Engine: what an execution engine (the wabt interpreter, wasm2c code) must
// provide to the engine-independent host (Guest). Each engine is a thin
// adapter: it instantiates the module with the host's imports, exposes
// memory, global 0 and the table, and runs guest functions on the calling
// native stack. Everything else (WASI, contexts, shadow stacks, traps, exit
// statuses) lives in Guest, once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "module_info.hpp"

namespace switchyard_wasm {

class Guest;

/// How a call into guest code ended.
struct RunOutcome {
  enum Kind { returned, trapped, unwound } kind = returned;
  std::string trap;  // canonical trap name when trapped
};

/// Per-context engine state, owned by the host (never by the context's
/// stack), so it is freed when the context is destroyed.
class EngineContext {
 public:
  virtual ~EngineContext() = default;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char* name() const = 0;

  /// Loads and instantiates the module; `guest.import_handler(i)` serves
  /// function import i. False with `error` when the module does not load,
  /// validate or instantiate.
  virtual bool instantiate(const std::string& path, const std::vector<uint8_t>& bytes, const ModuleInfo& info,
                           std::string& error) = 0;
  /// Called once per environment, inside sy_run_main, before any guest code.
  virtual void start_runtime() {}

  virtual uint8_t* memory_data() = 0;
  virtual uint64_t memory_size() = 0;
  /// memory.grow: the old size in pages, or -1.
  virtual int64_t memory_grow(uint32_t pages) = 0;

  virtual uint32_t stack_pointer() = 0;
  virtual void set_stack_pointer(uint32_t value) = 0;
  /// Calls the guest's exported __set_stack_limits(base, limit) (binaryen's
  /// stack checks), if it has one.
  virtual void set_stack_limits(uint32_t base, uint32_t limit) = 0;

  /// True when table element `index` is a non-null function of type () -> ().
  virtual bool entrypoint_ok(uint32_t index) = 0;

  virtual std::unique_ptr<EngineContext> new_context(bool is_main) = 0;
  /// Runs the export _start on the calling stack (the main context).
  virtual RunOutcome run_start(EngineContext& main) = 0;
  /// Runs table element `index` on the calling stack (a context's).
  virtual RunOutcome run_entry(EngineContext& context, uint32_t index) = 0;
  /// The engine keeps state on a context's native stack that would leak if
  /// the stack were dropped (interp: wabt's frames); Guest then unwinds a
  /// started context (as a trap) before destroying it.
  virtual bool destroy_needs_unwind() const = 0;
  /// Engine-global state that belongs to the running context (aot: the call
  /// depth) is saved before it leaves the CPU and restored after.
  virtual void suspend(EngineContext&) {}
  virtual void resume(EngineContext&) {}
};

std::unique_ptr<Engine> make_interp_engine(Guest& guest);
std::unique_ptr<Engine> make_aot_engine(Guest& guest);

/// Canonical trap names, the same for every engine.
std::string canonical_trap(const std::string& engine_message);

}  // namespace switchyard_wasm
